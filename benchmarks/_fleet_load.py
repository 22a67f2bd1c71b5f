"""The fleet part of benchmarks/fleet.py: PostgreSQL + Redis, two `portal serve` and two `portal worker`
started at the same moment on a fresh database, then a mixed load for a fixed time against both API
processes: reads of every list, logins, writes that emit events (feature requests) and a rescan
(`portal scan`) midway. A webhook receiver counts what arrives; afterwards the outbox and the
deliveries are compared with what it got."""

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import httpx

from benchmarks._machine import machine_load
from benchmarks._server import bearer_headers, free_port, stop, wait_until_up

PORTAL = [sys.executable, "-m", "portal.cli.main"]


class Receiver:
    """A webhook endpoint on loopback that answers 204 and remembers every `webhook-id` it gets."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.ids.append(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()


@dataclass
class LoadFigures:
    seconds: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # "label status" -> how many answered it (anything but 2xx/3xx, or a transport error).
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    start_seconds: float = 0.0
    committed: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    received: int = 0
    unique: int = 0
    drained_seconds: float | None = None
    load: str = ""


async def _count(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def _mixed_load(
    bases: list[str],
    signed_in: list[dict[str, str]],
    admin: dict[str, str],
    ids: dict[str, str],
    duration: float,
    clients: int,
    env: dict[str, str],
) -> LoadFigures:
    """`signed_in`: the headers of the admin signed in to each of `bases`, in order."""
    figures = LoadFigures()
    image, version = ids["image"], ids["version"]
    reads = {
        "GET /api/docker-images": "/api/docker-images",
        "GET /api/docker-images/{id}": f"/api/docker-images/{image}",
        "GET .../scan-history": f"/api/docker-images/{image}/versions/{version}/scan-history",
        "GET /api/feature-requests": "/api/feature-requests",
        "GET /api/cve-watches": "/api/cve-watches",
        "GET /api/webhooks": "/api/webhooks",
        "GET /api/status": "/api/status",
    }
    if ids.get("scan"):
        scan = f"/api/docker-images/{image}/versions/{version}/scans/{ids['scan']}"
        reads["GET .../findings"] = f"{scan}/findings"
    deadline = time.monotonic() + duration
    rng = random.Random(5)

    async def one(client: httpx.AsyncClient, worker: int) -> None:
        base, headers = bases[worker % len(bases)], signed_in[worker % len(bases)]
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.005:
                label = "POST /api/auth/login"
                request = client.post(
                    f"{base}/api/auth/login",
                    headers={"X-Tenant": "acme"},
                    json={"email": admin["email"], "password": admin["password"]},
                )
            elif roll < 0.105:
                label = "POST /api/feature-requests"
                request = client.post(
                    f"{base}/api/feature-requests",
                    headers=headers,
                    json={"type": "feature", "title": f"Load {uuid.uuid4().hex[:8]}", "description": "x"},
                )
            else:
                label = rng.choice(list(reads))
                request = client.get(f"{base}{reads[label]}", headers=headers)
            started = time.perf_counter()
            try:
                status = str((await request).status_code)
            except httpx.HTTPError as error:
                status = type(error).__name__
            figures.timings[label].append((time.perf_counter() - started) * 1000)
            if not status.startswith(("2", "3")):
                figures.failures[f"{label} {status}"] += 1

    async def rescan() -> None:
        await asyncio.sleep(duration / 3)
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *PORTAL, "scan", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await process.wait()
        figures.timings["portal scan (the rescan)"].append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as client:
        await asyncio.gather(rescan(), *(one(client, worker) for worker in range(clients)))
    figures.seconds = time.monotonic() - started
    return figures


def fleet_figures(env: dict[str, str], dsn: str, folder: Path, duration: float, clients: int) -> LoadFigures:
    """Starts the fleet on the fresh database in `env`, seeds it, loads it and counts the events."""

    env = {
        **env,
        "PORTAL_REDIS_URL": os.environ.get("PORTAL_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        "PORTAL_LOGIN_RATE_LIMIT": "100000/minute",
        "PORTAL_RUN_WORKER": "false",
        "PORTAL_WEBHOOK_ALLOW_PRIVATE": "true",
        "PORTAL_ENCRYPTION_KEY": _fernet_key(),
    }
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    started = time.monotonic()
    processes = [
        subprocess.Popen([*PORTAL, "serve", "--port", str(port)], env=env, **quiet)  # type: ignore[call-overload]
        for port in ports
    ] + [subprocess.Popen([*PORTAL, "worker"], env=env, **quiet) for _ in range(2)]  # type: ignore[call-overload]
    figures = LoadFigures()
    try:
        for base, process in zip(bases, processes, strict=False):
            wait_until_up(base, process, within=120)
        figures_start = time.monotonic() - started
        for worker in processes[2:]:
            if worker.poll() is not None:
                raise SystemExit(f"a worker exited with {worker.returncode} while starting")
        demo = subprocess.run([*PORTAL, "demo", "--json"], env=env, capture_output=True, check=True)
        admin = next(u for u in json.loads(demo.stdout)["users"] if u["role"] == "admin")
        with Receiver() as receiver:
            ids, subscription = _prepare(bases[0], admin, receiver.url)
            subscribed_at = asyncio.run(_now(dsn))
            load_note = machine_load()
            signed_in = [_signed_in_headers(base, admin) for base in bases]
            figures = asyncio.run(_mixed_load(bases, signed_in, admin, ids, duration, clients, env))
            figures.start_seconds, figures.load = figures_start, load_note
            _drain(figures, dsn, subscription, subscribed_at, receiver)
    finally:
        stop(*processes)
    return figures


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


async def _now(dsn: str) -> object:
    return (await _count(dsn, "SELECT now() AS now"))[0]["now"]


def _signed_in_headers(base: str, admin: dict[str, str]) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        return bearer_headers(client, "acme", admin["email"], admin["password"])


def _prepare(base: str, admin: dict[str, str], url: str) -> tuple[dict[str, str], str]:
    with httpx.Client(base_url=base, timeout=30, headers=_signed_in_headers(base, admin)) as client:
        events = [
            "image.version.published",
            "scan.completed",
            "cve.watch.matched",
            "cve.watch.resolved",
            "feature_request.created",
            "feature_request.updated",
        ]
        hook = client.post("/api/webhooks", json={"url": url, "events": events})
        hook.raise_for_status()
        image = next(i for i in client.get("/api/docker-images").json()["items"] if i["name"] == "python")
        version = image["latestVersion"]["id"]
        history = client.get(f"/api/docker-images/{image['id']}/versions/{version}/scan-history").json()
        scan = history["items"][0]["id"] if history["items"] else ""
    return {"image": image["id"], "version": version, "scan": scan}, hook.json()["id"]


def _drain(figures: LoadFigures, dsn: str, subscription: str, since: object, receiver: Receiver) -> None:
    """Waits (up to a minute) until every delivery of the subscription has been attempted to the end,
    then counts the events committed, the deliveries and what the receiver got."""
    began = time.monotonic()
    while time.monotonic() - began < 60:
        rows = asyncio.run(
            _count(
                dsn,
                "SELECT (SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL) AS undispatched,"
                " (SELECT count(*) FROM webhook_deliveries WHERE subscription_id = $1"
                "  AND status = 'pending') AS pending",
                subscription,
            )
        )
        if rows[0]["undispatched"] == 0 and rows[0]["pending"] == 0:
            figures.drained_seconds = time.monotonic() - began
            break
        time.sleep(0.2)
    committed = asyncio.run(
        _count(
            dsn,
            "SELECT count(*) AS n FROM outbox_events e JOIN tenants t ON t.id = e.tenant_id"
            " WHERE t.slug = 'acme' AND e.created_at >= $1 AND e.event_type <> 'webhook.test'",
            since,
        )
    )
    figures.committed = committed[0]["n"]
    states = asyncio.run(
        _count(
            dsn,
            "SELECT status, count(*) AS n FROM webhook_deliveries WHERE subscription_id = $1 GROUP BY status",
            subscription,
        )
    )
    figures.deliveries = {row["status"]: row["n"] for row in states}
    with receiver.lock:
        figures.received, figures.unique = len(receiver.ids), len(set(receiver.ids))


def print_fleet(figures: LoadFigures, clients: int) -> None:
    total = sum(len(t) for t in figures.timings.values())
    rate = total / figures.seconds
    print(f"\nfleet on PostgreSQL + Redis: 2 x portal serve + 2 x portal worker ({figures.load} at the load)")
    print(f"  started together on a fresh database; both APIs answering after {figures.start_seconds:.1f} s")
    print(f"  mixed load: {clients} clients for {figures.seconds:.0f} s over both APIs: {rate:,.0f} req/s")
    for label, timings in sorted(figures.timings.items()):
        timings = sorted(timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        failed = ", ".join(
            f"{key.rsplit(' ', 1)[1]}: {count}"
            for key, count in figures.failures.items()
            if key.rsplit(" ", 1)[0] == label
        )
        print(
            f"    {label:<30} {len(timings):>7} requests  p50 {statistics.median(timings):8.2f} ms"
            f"  p99 {p99:8.2f} ms  {('failed ' + failed) if failed else ''}"
        )
    drained = f"{figures.drained_seconds:.1f} s" if figures.drained_seconds is not None else "not within 60 s"
    duplicates = figures.received - figures.unique
    print(f"  events committed for the subscribed tenant during the load: {figures.committed}")
    print(f"  deliveries by state: {figures.deliveries}; all attempted {drained} after the load ended")
    print(f"  the receiver got {figures.received} ({figures.unique} distinct, {duplicates} duplicates)")
