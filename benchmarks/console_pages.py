"""The web console's pages beside the JSON endpoints they mirror, for a tenant with 200 images, over HTTP
from a real `portal serve` (SQLite, the embedded default).

Run: python benchmarks/console_pages.py [requests per endpoint, default 200]
Target: the catalog and version pages answer in under 30 ms at the median.

Two figures per endpoint: "server" is the time the server itself logged for the request (the access
log's `duration_ms`, from the first byte in to the last byte out of the app), "client" the wall time a
client on the same machine saw over a kept-alive connection (the server's time plus loopback and httpx).
"""

import argparse
import asyncio
import hashlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from benchmarks._server import bearer_headers, percentile, server_env, serving
from portal.auth.actor import Actor
from portal.catalog import CatalogService, PublishingService, PublishRequest
from portal.config import Settings
from portal.demo.catalog import DEMO_IMAGES, demo_sbom
from portal.demo.seed import run_demo
from portal.migrations import upgrade
from portal.runtime import Runtime
from portal.scanning.tasks import rescan
from portal.users.models import Role

OPERATOR = Actor.operator("benchmark")
IMAGES = 200
RESCANS = 4
TARGET_MS = 30.0


async def prepare(settings: Settings) -> tuple[str, str]:
    """The demo tenant with 200 images (the demo's four and copies of them), each scanned 5 times;
    returns the admin's e-mail and password."""
    runtime = Runtime.build(settings)
    try:
        await upgrade(runtime.db)
        report = await run_demo(runtime, OPERATOR)
        async with runtime.db.transaction() as session:
            catalog = CatalogService(session)
            for index in range(IMAGES - len(DEMO_IMAGES)):
                demo = DEMO_IMAGES[index % len(DEMO_IMAGES)]
                name = f"{demo.name}-copy-{index:03d}"
                await PublishingService(session).publish(
                    OPERATOR,
                    PublishRequest(
                        name=name,
                        repository=f"registry.example.com/hardened/{name}",
                        digest="sha256:" + hashlib.sha256(name.encode()).hexdigest(),
                        tags=demo.tags,
                        sbom=demo_sbom(demo.sbom_file),
                        architectures=demo.architectures,
                        hardening_tags=demo.hardening,
                        description=demo.description,
                    ),
                )
                await catalog.grant(OPERATOR, report.credentials.tenant, name)
        for _ in range(RESCANS + 1):
            await rescan(runtime.db)
        email, (_role, password) = next(
            (email, entry) for email, entry in report.credentials.users.items() if entry[0] == Role.ADMIN
        )
        return email, password
    finally:
        await runtime.close()


class AccessLog:
    """The server's access log (JSON lines on its stderr): the requests' own durations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def durations_since_last(self) -> list[float]:
        time.sleep(0.3)  # the line is written after the response has gone out
        with self.path.open() as log:
            log.seek(self.offset)
            lines = log.readlines()
            self.offset = log.tell()
        return [
            float(entry["duration_ms"])
            for entry in map(json.loads, (line for line in lines if line.startswith("{")))
            if entry.get("event") == "request"
        ]


def measure(
    client: httpx.Client, log: AccessLog, url: str, rounds: int, headers: dict[str, str] | None = None
) -> tuple[list[float], list[float]]:
    for _ in range(10):
        client.get(url, headers=headers).raise_for_status()
    log.durations_since_last()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    server = log.durations_since_last()
    assert len(server) == rounds, (len(server), rounds)
    return server, samples


def report(label: str, timings: tuple[list[float], list[float]], target: float | None) -> None:
    server, client = timings
    p50, p95 = percentile(server, 0.5), percentile(server, 0.95)
    verdict = "" if target is None else ("  [ok, target p50 < 30 ms]" if p50 < target else "  [OVER TARGET]")
    print(
        f"  {label:<48} server p50 {p50:6.2f} ms p95 {p95:6.2f} ms"
        f" | client p50 {percentile(client, 0.5):6.2f} ms{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "rounds", type=int, nargs="?", default=200, help="requests per endpoint (default 200)"
    )
    rounds = parser.parse_args().rounds
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), secret_key="benchmark-secret-key-" + "x" * 48)
        started = time.perf_counter()
        email, password = asyncio.run(prepare(settings))
        made_s = time.perf_counter() - started
        print(f"tenant acme: {IMAGES} images, {RESCANS + 1} scans each (made in {made_s:.0f} s)")

        log = AccessLog(Path(folder) / "server.log")
        # INFO: the access log, which the measurements read the server's own times from
        with serving(server_env(settings, PORTAL_LOG_LEVEL="INFO"), stderr=log.path.open("w")) as server:
            base = server.base
            # The console's host names the tenant; the cookie jar keys on the address the client dials.
            host = {"Host": f"acme.localhost:{server.port}"}
            with httpx.Client(base_url=base, timeout=30, headers=host) as console:
                form = console.get("/login").text
                csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
                assert csrf is not None
                signed_in = console.post(
                    "/login", data={"csrf": csrf.group(1), "email": email, "password": password}
                )
                assert signed_in.status_code == 303, signed_in.text
                catalog = console.get("/").text
                nginx = re.search(r'href="(/images/[0-9a-f-]+)">nginx<', catalog)
                assert nginx is not None
                image_page = console.get(nginx.group(1)).text
                version = re.search(r'href="(/images/[0-9a-f-]+/versions/[0-9a-f-]+)"', image_page)
                assert version is not None
                version_path = version.group(1)

                with httpx.Client(base_url=base, timeout=30) as api:
                    headers = bearer_headers(api, "acme", email, password)
                    api_version = f"/api/docker-{version_path[1:]}"
                    latest_scan = api.get(f"{api_version}/scan-history?limit=1", headers=headers).json()
                    scan_id = latest_scan["items"][0]["id"]

                    print(f"{rounds} requests each, one client, keep-alive:")
                    print(" pages (HTML)")
                    report(
                        "GET /  (catalog, first 50 of 200 images)",
                        measure(console, log, "/", rounds),
                        TARGET_MS,
                    )
                    report(
                        "GET /?q=nginx&tag=stig",
                        measure(console, log, "/?q=nginx&tag=stig", rounds),
                        TARGET_MS,
                    )
                    report("GET /images/{id}", measure(console, log, nginx.group(1), rounds), None)
                    report(
                        "GET /images/{id}/versions/{vid}  (chart + findings)",
                        measure(console, log, version_path, rounds),
                        TARGET_MS,
                    )
                    report(
                        "GET .../versions/{vid}?sort=risk",
                        measure(console, log, f"{version_path}?sort=risk", rounds),
                        TARGET_MS,
                    )
                    print(" JSON API")
                    report(
                        "GET /api/docker-images  (50 of 200)",
                        measure(api, log, "/api/docker-images", rounds, headers),
                        None,
                    )
                    report(
                        "GET /api/docker-images/{id}",
                        measure(api, log, f"/api/docker-{nginx.group(1)[1:]}", rounds, headers),
                        None,
                    )
                    report(
                        "GET .../scan-history",
                        measure(api, log, f"{api_version}/scan-history", rounds, headers),
                        None,
                    )
                    report(
                        "GET .../scans/{scanId}/findings",
                        measure(api, log, f"{api_version}/scans/{scan_id}/findings", rounds, headers),
                        None,
                    )


if __name__ == "__main__":
    main()
