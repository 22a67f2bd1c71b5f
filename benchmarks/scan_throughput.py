"""Importing the three fixture feeds, then a full rescan of N published versions of 500 components each.

Run: python benchmarks/scan_throughput.py [versions, default 200] [components per version, default 500]
Target: the rescan of 200 x 500 components in under 10 s (10,000 component matches a second).
On the 2-core reference machine (SQLite) it takes about 5 s, both the first and the second rescan.

The first rescan stores every version's findings (about 590,000, as 200 compressed documents); the
second finds the same and stores only its 200 scans rows, each naming the document it shares with its
predecessor, which is what a rescan after an unchanged or slightly changed feed does. Either way a
rescan costs the same however long the history: nothing it writes or reads grows with earlier scans.

Components are the real affected packages of the imported advisories (PyPI, Go, Wolfi), each package once
at a version one of its advisories lists or names in a range event, so that many of them match; each
version draws its components at random (seeded) from that pool, so versions share some, as real images do.
"""

import asyncio
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from packageurl import PackageURL

from benchmarks._machine import machine_line
from portal.advisories.service import AdvisoryService
from portal.auth.actor import Actor
from portal.catalog import CatalogService, PublishRequest
from portal.db import Database
from portal.migrations import upgrade
from portal.scanning.tasks import rescan
from portal.vulns import iter_advisories

OPERATOR = Actor.operator("benchmark")

FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "osv"
FEEDS = ("go-vulndb.zip", "pypi-pysec.zip", "wolfi.zip")


def _purl(ecosystem: str, name: str, version: str) -> str | None:
    if ecosystem == "PyPI":
        return PackageURL(type="pypi", name=name, version=version).to_string()
    if ecosystem == "Go":
        namespace, _, short = name.rpartition("/")
        go_version = version if version.startswith("v") else f"v{version}"
        return PackageURL(
            type="golang", namespace=namespace or None, name=short, version=go_version
        ).to_string()
    if ecosystem == "Wolfi":
        return PackageURL(type="apk", namespace="wolfi", name=name, version=version).to_string()
    return None


def component_pool(seed: int = 11) -> list[tuple[str, str, str]]:
    """(name, version, purl): each affected package once, at a version one of its advisories names."""
    rng = random.Random(seed)
    versions: dict[tuple[str, str], set[str]] = {}
    for feed in FEEDS:
        for _, advisory in iter_advisories(FIXTURES / feed):
            if isinstance(advisory, Exception):
                continue
            for affected in advisory.affected:
                named = versions.setdefault((affected.ecosystem, affected.name), set())
                named.update(affected.versions)
                for range_ in affected.ranges:
                    if range_.type != "GIT":
                        named.update(value for _, value in range_.events if value not in ("0", "*"))
    pool: list[tuple[str, str, str]] = []
    for (ecosystem, name), named in sorted(versions.items()):
        if not named:
            continue
        version = rng.choice(sorted(named))
        purl = _purl(ecosystem, name, version)
        if purl is not None:
            pool.append((name, version, purl))
    return pool


def cyclonedx(components: list[tuple[str, str, str]]) -> bytes:
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl}
            for name, version, purl in components
        ],
    }
    return json.dumps(document).encode()


def _finding_sets(database: Path) -> tuple[int, int]:
    """(finding sets stored, their compressed bytes)."""
    with sqlite3.connect(database) as connection:
        count, size = connection.execute(
            "SELECT count(*), coalesce(sum(length(document)), 0) FROM finding_sets"
        ).fetchone()
    return int(count), int(size)


async def main(version_count: int, component_count: int) -> None:
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/portal.db")
        await upgrade(db)

        started = time.perf_counter()
        async with db.transaction() as session:
            report = await AdvisoryService(session).import_sources([FIXTURES / feed for feed in FEEDS])
        import_seconds = time.perf_counter() - started
        print(
            f"import: {report.imported} advisories ({report.withdrawn} withdrawn, {report.failed} failed) "
            f"from {len(FEEDS)} feeds in {import_seconds:.2f} s"
        )
        started = time.perf_counter()
        async with db.transaction() as session:
            again = await AdvisoryService(session).import_sources([FIXTURES / feed for feed in FEEDS])
        print(f"re-import: {again.unchanged} unchanged in {time.perf_counter() - started:.2f} s")

        pool = component_pool()
        rng = random.Random(7)
        started = time.perf_counter()
        for index in range(version_count):
            chosen = rng.sample(pool, component_count)
            async with db.transaction() as session:
                await CatalogService(session).publish(
                    OPERATOR,
                    PublishRequest(
                        name=f"bench-{index % 20}",
                        repository=f"registry.example.com/bench-{index % 20}",
                        digest="sha256:" + hashlib.sha256(str(index).encode()).hexdigest(),
                        tags=(f"v{index}",),
                        sbom=cyclonedx(chosen),
                    ),
                )
        print(
            f"publish: {version_count} versions x {component_count} components (pool of {len(pool)} purls) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        database = Path(folder) / "portal.db"
        for label in ("first rescan", "second rescan"):
            sets_before, bytes_before = _finding_sets(database)
            result = await rescan(db)
            rate = result.components / result.seconds
            print(
                f"{label}: {len(result.versions)} versions, {result.components} components, "
                f"{result.findings} findings, {result.advisories_loaded} advisories loaded, "
                f"{result.seconds:.2f} s, {rate:,.0f} component matches/s"
            )
            sets, size = _finding_sets(database)
            print(f"  finding sets stored: +{sets - sets_before} ({(size - bytes_before) / 1e6:.1f} MB)")
        await db.dispose()


if __name__ == "__main__":
    versions = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    components = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    asyncio.run(main(versions, components))
