"""The portal as a fleet: read throughput on both engines, and a mixed load on PostgreSQL + Redis.

Reads (for SQLite and PostgreSQL, each on a fresh database with the demo tenant and a 5,000-component
version): one `portal serve` (one uvicorn worker), wrk on the catalog list, an image's detail, a
version's scan history and the status probe, in `--rounds` slices of `--duration` seconds taking turns,
each slice followed at once by as long on a bare FastAPI endpoint (the framework's ceiling on this
machine, under the load of that moment); then SBOM downloads of the big version, one at a time, in both
formats, and their 304s.

Fleet (PostgreSQL + Redis): two `portal serve` and two `portal worker` started at the same moment on a
fresh database, a mixed load over both APIs for `--fleet-seconds` (reads of every list, logins, writes
that emit events, a rescan), then the events committed against what a webhook receiver got.

    python benchmarks/fleet.py [--duration 4] [--rounds 3] [--connections 32]
                               [--only reads|fleet] [--engine sqlite]

Needs wrk (`apt-get install wrk`), PostgreSQL at PORTAL_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres) and, for the fleet part, Redis at PORTAL_BENCH_REDIS.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._fleet_load import fleet_figures, print_fleet
from benchmarks._machine import machine_line, machine_load
from benchmarks._server import bare_fastapi, signed_in
from benchmarks.auth_throughput import wrk
from benchmarks.sbom_publish import generate_cyclonedx

PG_URL = os.environ.get("PORTAL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PORTAL_BENCH_REDIS", "redis://127.0.0.1:6379/14")
BIG_COMPONENTS = 5000
PORTAL = [sys.executable, "-m", "portal.cli.main"]


@contextmanager
def fresh_database(engine: str, folder: Path) -> Iterator[dict[str, str]]:
    """The environment of a portal on a new, empty database of that engine; dropped afterwards."""
    env = {**os.environ, "PORTAL_DATA_DIR": str(folder)}
    env.pop("PORTAL_DATABASE_URL", None)
    if engine == "sqlite":
        yield env
        return
    name = f"portal_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        base = PG_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        env["PORTAL_DATABASE_URL"] = f"{base}/{name}"
        env["PORTAL_SECRET_KEY"] = uuid.uuid4().hex * 2
        yield env
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class Seeded:
    admin_email: str
    admin_password: str
    image_id: str = ""
    version_id: str = ""
    big_image_id: str = ""
    big_version_id: str = ""


def seed(env: dict[str, str], folder: Path) -> Seeded:
    """The demo tenant, plus one image whose version has a 5,000-component SBOM."""
    demo = subprocess.run([*PORTAL, "demo", "--json"], env=env, capture_output=True, check=True)
    admin = next(u for u in json.loads(demo.stdout)["users"] if u["role"] == "admin")
    sbom = folder / "big.cdx.json"
    sbom.write_bytes(generate_cyclonedx(BIG_COMPONENTS))
    digest = "sha256:" + uuid.uuid4().hex * 2
    publish = [*PORTAL, "images", "publish", "--name", "big", "--repository", "registry.example.com/big"]
    subprocess.run(
        [*publish, "--tag", "1.0", "--digest", digest, "--sbom", str(sbom)],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*PORTAL, "images", "grant", "--tenant", "acme", "--image", "big"],
        env=env,
        check=True,
        capture_output=True,
    )
    return Seeded(admin_email=admin["email"], admin_password=admin["password"])


def find_ids(base: str, headers: dict[str, str], seeded: Seeded) -> None:
    images = httpx.get(f"{base}/api/docker-images", headers=headers).json()["items"]
    for image in images:
        if image["name"] == "big":
            seeded.big_image_id, seeded.big_version_id = image["id"], image["latestVersion"]["id"]
        elif image["name"] == "python":
            seeded.image_id, seeded.version_id = image["id"], image["latestVersion"]["id"]


@dataclass
class RouteFigures:
    """A route measured in slices, each followed at once by the bare endpoint: one pair per round."""

    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    ceiling_rps: list[float] = field(default_factory=list)
    ceiling_p99: list[float] = field(default_factory=list)

    def add(self, route: tuple[float, float, float], ceiling: tuple[float, float, float]) -> None:
        self.rps.append(route[0])
        self.p50.append(route[1])
        self.p99.append(route[2])
        self.ceiling_rps.append(ceiling[0])
        self.ceiling_p99.append(ceiling[2])

    @property
    def ratios(self) -> list[float]:
        return [rps / ceiling for rps, ceiling in zip(self.rps, self.ceiling_rps, strict=True)]


@dataclass
class ReadFigures:
    engine: str
    routes: dict[str, RouteFigures] = field(default_factory=dict)
    downloads: dict[str, float] = field(default_factory=dict)
    load: str = ""


def read_figures(engine: str, duration: int, connections: int, rounds: int) -> ReadFigures:
    figures = ReadFigures(engine=engine)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(engine, Path(tmp)) as env:
        folder = Path(tmp)
        env["PORTAL_LOGIN_RATE_LIMIT"] = "1000/minute"
        seeded = seed(env, folder)
        with (
            signed_in(env, "acme", seeded.admin_email, seeded.admin_password) as portal,
            bare_fastapi() as bare_url,
        ):
            base, headers = portal.server.base, portal.headers
            find_ids(base, headers, seeded)
            image, version = seeded.image_id, seeded.version_id
            routes = {
                "GET /api/docker-images": "/api/docker-images",
                "GET /api/docker-images/{id}": f"/api/docker-images/{image}",
                "GET .../scan-history": f"/api/docker-images/{image}/versions/{version}/scan-history",
                "GET /api/status": "/api/status",
            }
            figures.load = machine_load()
            wrk(bare_url, {}, 2, connections)  # warm-up
            for path in routes.values():
                wrk(f"{base}{path}", headers, 2, connections)  # warm-up
            # Each route in `rounds` slices, each slice followed at once by the bare endpoint, the routes
            # taking turns: on a machine others share the load moves within a run, and a ratio is only
            # fair between two measurements made under the same one. Ten seconds of a route then ten of
            # the ceiling put up to a sixth of the ceiling between two runs of the same code.
            for _ in range(rounds):
                for label, path in routes.items():
                    route = wrk(f"{base}{path}", headers, duration, connections)
                    ceiling = wrk(bare_url, {}, duration, connections)
                    figures.routes.setdefault(label, RouteFigures()).add(route, ceiling)
            figures.downloads = download_figures(base, headers, seeded)
    return figures


def download_figures(
    base: str, headers: dict[str, str], seeded: Seeded, rounds: int = 200
) -> dict[str, float]:
    """p50 in ms of downloading the big version's SBOMs one after another, and of their 304s."""
    found: dict[str, float] = {}
    prefix = f"/api/docker-images/{seeded.big_image_id}/versions/{seeded.big_version_id}/sbom"
    with httpx.Client(base_url=base, headers=headers) as client:
        for kind in ("cyclonedx", "spdx"):
            timings, not_modified = [], []
            etag = client.get(f"{prefix}/{kind}").headers["etag"]
            for _ in range(rounds):
                started = time.perf_counter()
                response = client.get(f"{prefix}/{kind}")
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                started = time.perf_counter()
                response = client.get(f"{prefix}/{kind}", headers={"If-None-Match": etag})
                not_modified.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 304, response.status_code
            found[f"{kind} 200"] = statistics.median(timings)
            found[f"{kind} 304"] = statistics.median(not_modified)
            found[f"{kind} bytes"] = float(len(client.get(f"{prefix}/{kind}").content))
    return found


def print_reads(figures: ReadFigures, connections: int, duration: int, rounds: int) -> None:
    print(f"\nreads on {figures.engine} ({figures.load} when wrk started)")
    for label, route in figures.routes.items():
        ratios = ", ".join(f"{ratio:.2f}" for ratio in route.ratios)
        print(
            f"  {label:<28} {statistics.median(route.rps):>7,.0f} req/s  "
            f"{statistics.median(route.ratios):.2f} of ceiling ({ratios})  "
            f"p50 {statistics.median(route.p50):6.2f} ms  p99 {max(route.p99):6.2f} ms"
            f"   (ceiling {statistics.median(route.ceiling_rps):,.0f} req/s,"
            f" p99 {max(route.ceiling_p99):.2f} ms)"
        )
    print(
        f"  (wrk: 2 threads, {connections} connections; each route {rounds} x {duration} s, each slice"
        " followed by as long on a bare FastAPI endpoint (the ceiling), the routes taking turns;\n"
        "   the medians of the slices, each slice's ratio in brackets, the worst p99;"
        " targets: >= 0.50 of it, p99 < 50 ms)"
    )
    downloads = figures.downloads
    for kind in ("cyclonedx", "spdx"):
        print(
            f"  SBOM {kind:<9} {BIG_COMPONENTS} components ({downloads[f'{kind} bytes'] / 1e6:.1f} MB): "
            f"200 p50 {downloads[f'{kind} 200']:.2f} ms (target < 10), "
            f"304 p50 {downloads[f'{kind} 304']:.2f} ms (target < 2)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=4, help="seconds per slice of a read (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="slices of each read (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=["reads", "fleet"])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--fleet-seconds", type=int, default=30)
    parser.add_argument("--fleet-clients", type=int, default=32)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(machine_line())
    print(f"at start: {machine_load()}")
    if options.only in (None, "reads"):
        for engine in options.engine or ["sqlite", "postgresql"]:
            figures = read_figures(engine, options.duration, options.connections, options.rounds)
            print_reads(figures, options.connections, options.duration, options.rounds)
    if options.only in (None, "fleet"):
        with tempfile.TemporaryDirectory() as tmp, fresh_database("postgresql", Path(tmp)) as env:
            dsn = env["PORTAL_DATABASE_URL"].replace("+asyncpg", "")
            fleet = fleet_figures(env, dsn, Path(tmp), options.fleet_seconds, options.fleet_clients)
        print_fleet(fleet, options.fleet_clients)


if __name__ == "__main__":
    main()
