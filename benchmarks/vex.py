"""VEX at scale: importing Wolfi's statements, a findings list that 3,000 statements speak for, and the
OpenVEX export of a 5,000-component version.

Run: python benchmarks/vex.py [rounds, default 100]

1. Import: `../shared/fixtures/vex/wolfi-openvex.zip` (884 OpenVEX documents, 2,782 statements, each
   validated against the OpenVEX schema) through the service `portal vex import` calls, on a fresh SQLite
   database, commit included; then the same again (nothing new).
2. Findings list: a version of 5,000 components, 1,000 of which (PyPI packages) have 5 advisories each:
   5,000 findings; 3,000 of them are spoken for by vendor statements (OpenVEX, product the package's purl,
   half versioned), imported. GET .../findings?sort=risk (a page of 50, the suppressed hidden) and
   `&include=suppressed`, over HTTP from `portal serve`. Target: p50 under 50 ms.
3. Export: GET .../vex (OpenVEX, the 3,000 verdicts) of that version over HTTP. Target: p50 under 100 ms.

The advisories and statements are generated (seeded); the Wolfi set is real.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._machine import machine_line
from benchmarks._server import percentile, server_env, signed_in
from portal.advisories.service import AdvisoryService
from portal.auth.actor import Actor
from portal.background import job_handlers
from portal.catalog import CatalogService, PublishingService, PublishRequest
from portal.config import Settings
from portal.jobs.runner import JobWorker
from portal.migrations import upgrade
from portal.runtime import Runtime
from portal.scanning.service import ScanService
from portal.tenants.service import TenantService
from portal.users.models import Role
from portal.users.service import UserService
from portal.vex.statements import VexStatements

FIXTURES = Path(
    os.environ.get(
        "PORTAL_TEST_FIXTURES", Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
    )
)
WOLFI = FIXTURES / "vex" / "wolfi-openvex.zip"
PASSWORD = "benchmark-password-1"
OPERATOR = Actor.operator("benchmark")
VULNERABLE, ADVISORIES_EACH, COMPONENTS, STATEMENTS = 1000, 5, 5000, 3000


def _settings(folder: str) -> Settings:
    return Settings(data_dir=Path(folder), secret_key="benchmark-secret-key-" + "x" * 48, log_level="WARNING")


async def wolfi_import() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime.build(_settings(folder))
        try:
            await upgrade(runtime.db)
            for label in ("first import", "again (unchanged)"):
                start = time.perf_counter()
                async with runtime.db.transaction() as session:
                    report = await VexStatements(session, runtime.clock).import_paths(OPERATOR, [WOLFI])
                took = time.perf_counter() - start
                print(
                    f"Wolfi OpenVEX {label}: {report.documents} documents, {report.imported} imported, "
                    f"{report.unchanged} unchanged in {took:.2f} s"
                )
        finally:
            await runtime.close()


def _advisory(index: int, advisory: int) -> dict[str, Any]:
    return {
        "id": f"BENCH-{index:04d}-{advisory}",
        "modified": "2025-01-01T00:00:00Z",
        "aliases": [f"CVE-2099-{index * 10 + advisory:05d}"],
        "summary": "generated",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": f"bench-lib-{index:04d}"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}],
            }
        ],
    }


def _sbom() -> bytes:
    components = [
        {
            "type": "library",
            "bom-ref": f"pkg:pypi/bench-lib-{i:04d}@1.0.0",
            "name": f"bench-lib-{i:04d}",
            "version": "1.0.0",
            "purl": f"pkg:pypi/bench-lib-{i:04d}@1.0.0",
        }
        for i in range(VULNERABLE)
    ] + [
        {
            "type": "library",
            "bom-ref": f"pkg:pypi/quiet-lib-{i:04d}@3.1.0",
            "name": f"quiet-lib-{i:04d}",
            "version": "3.1.0",
            "purl": f"pkg:pypi/quiet-lib-{i:04d}@3.1.0",
        }
        for i in range(COMPONENTS - VULNERABLE)
    ]
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}
    ).encode()


def _statements(folder: Path) -> Path:
    rng = random.Random(3)
    chosen = rng.sample([(i, a) for i in range(VULNERABLE) for a in range(ADVISORIES_EACH)], STATEMENTS)
    statements = [
        {
            "vulnerability": {"name": f"CVE-2099-{i * 10 + a:05d}"},
            "products": [{"@id": f"pkg:pypi/bench-lib-{i:04d}" + ("@1.0.0" if n % 2 else "")}],
            "status": "not_affected" if n % 3 else "under_investigation",
            **({"justification": "vulnerable_code_not_in_execute_path"} if n % 3 else {}),
            "timestamp": "2025-02-01T00:00:00Z",
        }
        for n, (i, a) in enumerate(chosen)
    ]
    path = folder / "bench.openvex.json"
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://vendor.example/vex/bench",
        "author": "Benchmark",
        "timestamp": "2025-02-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    }
    path.write_text(json.dumps(document))
    return path


async def big_version(runtime: Runtime, folder: Path) -> tuple[str, str, str, int]:
    await upgrade(runtime.db)
    async with runtime.db.transaction() as session:
        tenant = await TenantService(session).create(OPERATOR, "bench", "Benchmark")
        await UserService(session, runtime).create(
            OPERATOR.within(tenant.ref), "bench@example.com", Role.VIEWER, PASSWORD
        )
        records = [("bench", _advisory(i, a)) for i in range(VULNERABLE) for a in range(ADVISORIES_EACH)]
        await AdvisoryService(session, runtime.clock).import_records(records)
    async with runtime.db.transaction() as session:
        published = await PublishingService(session).publish(
            OPERATOR,
            PublishRequest(
                name="big",
                repository="registry.example.com/big",
                digest="sha256:" + "cd" * 32,
                tags=("1.0",),
                sbom=_sbom(),
            ),
        )
        await CatalogService(session).grant(OPERATOR, "bench", "big")
    await JobWorker(runtime, job_handlers(runtime)).run_due()
    start = time.perf_counter()
    async with runtime.db.transaction() as session:
        report = await VexStatements(session, runtime.clock).import_paths(OPERATOR, [_statements(folder)])
    took = time.perf_counter() - start
    print(f"{report.imported} generated statements imported (with their events) in {took:.2f} s")
    async with runtime.db.transaction() as session:
        scan = (await ScanService(session).latest_scans([published.version.id]))[published.version.id]
    return published.image.id, published.version.id, scan.id, scan.total


def over_http(settings: Settings, ids: tuple[str, str, str, int], rounds: int) -> None:
    env = server_env(settings)
    with signed_in(env, "bench", "bench@example.com", PASSWORD) as api:
        measure(api.client, api.headers, env, ids, rounds)


def timed(client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> float:
    started = time.perf_counter()
    answer = client.get(url, params=params, headers=headers)
    took = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    return took


def measure(
    client: httpx.Client,
    headers: dict[str, str],
    env: dict[str, str],
    ids: tuple[str, str, str, int],
    rounds: int,
) -> None:
    image_id, version_id, scan_id, total = ids
    version = f"/api/docker-images/{image_id}/versions/{version_id}"
    findings = f"{version}/scans/{scan_id}/findings"
    cases = [
        ("bare: GET /api/auth/me", "/api/auth/me", {}, None),
        ("findings, sort=risk, suppressed hidden", findings, {"sort": "risk"}, 50),
        ("findings, sort=risk, include=suppressed", findings, {"sort": "risk", "include": "suppressed"}, 50),
        ("findings, sort=severity, package=bench-lib-01", findings, {"package": "bench-lib-01"}, 50),
        ("OpenVEX export", f"{version}/vex", {}, 100),
        ("CycloneDX VEX export", f"{version}/vex", {"format": "cyclonedx"}, None),
    ]
    bare = 0.0
    for label, url, params, target in cases:
        for _ in range(5):
            client.get(url, params=params, headers=headers).raise_for_status()
        samples = [timed(client, url, params, headers) for _ in range(rounds)]
        p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        bare = bare or p50
        verdict = "" if target is None else "ok, " if p50 < target else "OVER TARGET, "
        size = len(client.get(url, params=params, headers=headers).content)
        print(
            f"{label} ({total} findings, {STATEMENTS} statements, {size / 1e3:.0f} kB) x{rounds}: "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms  [{verdict}{p50 / bare:.1f}x bare"
            + (f", target p50 < {target} ms]" if target else "]")
        )
    # The next page, and the next, as a client walks the list: each a request not seen before.
    walked, cursor, pages = [], None, 0
    while pages < rounds:
        params = {"sort": "risk", **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        answer = client.get(findings, params=params, headers=headers)
        walked.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
        cursor, pages = answer.json().get("nextCursor"), pages + 1
        if cursor is None:
            break
    print(f"findings, walking {pages} pages by cursor: p50 {percentile(walked, 0.5):.1f} ms")
    # The first answers after a VEX change (a statement added, then revoked, by `portal vex` in another
    # process): what was kept is made again.
    after_change: dict[str, list[float]] = {"findings": [], "OpenVEX export": []}
    added: list[str] = []
    for _change in range(6):
        vex_change(env, added)
        time.sleep(1.2)  # PORTAL_READ_CACHE_SECONDS: the server learns of the other process's change
        after_change["findings"].append(timed(client, findings, {"sort": "risk"}, headers))
        after_change["OpenVEX export"].append(timed(client, f"{version}/vex", {}, headers))
    for label, samples in after_change.items():
        print(
            f"{label}, first answer after a VEX change x{len(samples)}: "
            f"p50 {percentile(samples, 0.5):.1f} ms, max {max(samples):.1f} ms"
        )
    summary = client.get(f"{version}/scan-history", headers=headers).json()["items"][0]["summary"]
    print(f"  summary: {summary['total']} open, {summary['suppressed']} suppressed")


def vex_change(env: dict[str, str], added: list[str]) -> None:
    """Adds a statement about the big image, or revokes the one added before."""
    portal = [sys.executable, "-m", "portal.cli.main", "vex"]
    if added:
        command = [*portal, "revoke", added.pop(), "--json"]
    else:
        command = [*portal, "add", "--image", "big", "--all-versions", "--vulnerability", "CVE-2099-00001"]
        command += ["--status", "not_affected", "--justification", "vulnerable_code_not_present", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, check=True, cwd=Path(__file__).parent.parent)
    if not added and "revoke" not in command:
        added.append(json.loads(done.stdout)["id"])


async def main(rounds: int) -> None:
    print(machine_line())
    await wolfi_import()
    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(folder)
        runtime = Runtime.build(settings)
        try:
            ids = await big_version(runtime, Path(folder))
        finally:
            await runtime.close()
        over_http(settings, ids, rounds)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "rounds",
        type=int,
        nargs="?",
        default=100,
        help="timed requests per route, and pages walked by cursor (default 100)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments().rounds))
