"""Signed webhook deliveries per second from one worker, and the delay from commit to first attempt.

Runs a minimal ASGI receiver under uvicorn in its own process (answers 204 and notes when each delivery
arrived), and `portal worker` in another, on a fresh SQLite database (or --database-url, migrated first).

- throughput: N events committed in one transaction, fanned out to one subscription; deliveries per
  second = N / (last arrival - commit). Repeated for each --concurrency value.
- first attempt: events committed one by one at --rate per second (below capacity, as in normal
  operation); delay = arrival at the receiver - commit of the event's transaction; p50 / p95.

    python benchmarks/webhook_delivery.py [--events 5000] [--concurrency 8,16,32,64] [--rate 100]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._machine import machine_line
from benchmarks._server import free_port, percentile
from portal.auth.actor import Actor
from portal.config import Settings
from portal.events import EventType, record_event
from portal.migrations import upgrade
from portal.runtime import Runtime
from portal.scanning.events import ScanCompleted, ScanSummary
from portal.tenants.service import TenantService
from portal.webhooks.schemas import SubscriptionCreate
from portal.webhooks.service import WebhookService

OPERATOR = Actor.operator("benchmark")

RECEIVER_APP = """
import json, time

arrivals = {}

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        arrivals[json.loads(body)["data"]["scanId"]] = time.time()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["path"] == "/reset":
        arrivals.clear()
    # Only the count while the benchmark waits: sending every arrival each time would steal the CPU.
    full = scope["path"] == "/arrivals"
    answer = json.dumps({"count": len(arrivals), "arrivals": arrivals if full else {}}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})
"""


class Receiver:
    def __init__(self, folder: Path) -> None:
        (folder / "bench_receiver.py").write_text(RECEIVER_APP)
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench_receiver:app", "--port", str(self.port),
                "--log-level", "warning", "--no-access-log", "--http", "httptools", "--loop", "uvloop",
            ],
            cwd=folder,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/stats")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the receiver did not start") from None
                time.sleep(0.1)

    def stats(self, path: str = "stats") -> dict[str, object]:
        answer: dict[str, object] = httpx.get(f"{self.url}/{path}", timeout=30).json()
        return answer

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


async def prepare(settings: Settings, receiver_url: str) -> tuple[Runtime, str]:
    runtime = Runtime.build(settings)
    await upgrade(runtime.db)
    async with runtime.db.transaction() as session:
        tenant = await TenantService(session).create(OPERATOR, f"bench-{uuid.uuid4().hex[:8]}", "Benchmark")
        await WebhookService(session, allow_private=True, secrets=runtime.secrets).upsert(
            OPERATOR.within(tenant.ref),
            SubscriptionCreate(url=f"{receiver_url}/hook", events=[EventType.SCAN_COMPLETED]),
        )
    return runtime, tenant.id


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "portal.cli.main", "worker"],
        env={**env, "PORTAL_WORKER_CONCURRENCY": str(concurrency)},
        stdout=subprocess.DEVNULL,
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    worker.wait(timeout=60)


async def wait_for(receiver: Receiver, count: int, within: float) -> dict[str, float]:
    deadline = time.monotonic() + within
    while True:
        stats = await asyncio.to_thread(receiver.stats)
        if int(stats["count"]) >= count:  # type: ignore[call-overload]
            arrivals: dict[str, float] = (await asyncio.to_thread(receiver.stats, "arrivals"))["arrivals"]  # type: ignore[assignment]
            return arrivals
        if time.monotonic() > deadline:
            raise SystemExit(f"only {stats['count']} of {count} deliveries arrived")
        await asyncio.sleep(0.2)


def numbered_scan(seq: int) -> ScanCompleted:
    """A scan.completed event whose scanId is its sequence number, to match arrivals to events."""
    summary = ScanSummary(critical=0, high=0, medium=0, low=0, unknown=0, total=0, fixable=0)
    return ScanCompleted(
        image_id="image",
        image_name="bench",
        version_id="version",
        scan_id=str(seq),
        summary=summary,
        new_vulnerabilities=[],
        resolved_vulnerabilities=[],
    )


async def throughput(runtime: Runtime, tenant_id: str, receiver: Receiver, events: int, seq0: int) -> float:
    async with runtime.db.transaction() as session:
        for index in range(events):
            record_event(session, tenant_id, numbered_scan(seq0 + index))
    committed = time.time()
    arrivals = await wait_for(receiver, events, within=600)
    return events / (max(arrivals.values()) - committed)


async def first_attempt_delays(
    runtime: Runtime, tenant_id: str, receiver: Receiver, events: int, rate: float, seq0: int
) -> list[float]:
    committed: dict[str, float] = {}
    started = time.monotonic()
    for index in range(events):
        await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
        async with runtime.db.transaction() as session:
            record_event(session, tenant_id, numbered_scan(seq0 + index))
        committed[str(seq0 + index)] = time.time()
    arrivals = await wait_for(receiver, events, within=120)
    return [(arrivals[seq] - at) * 1000 for seq, at in committed.items()]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", default="8,16,32,64")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second in the delay run")
    parser.add_argument("--delay-events", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    options = parser.parse_args()
    levels = [int(part) for part in options.concurrency.split(",")]
    print(machine_line())

    with tempfile.TemporaryDirectory() as folder:
        receiver = Receiver(Path(folder))
        env = {
            **os.environ,
            "PORTAL_DATA_DIR": folder,
            "PORTAL_WEBHOOK_ALLOW_PRIVATE": "true",
            "PORTAL_LOG_LEVEL": "WARNING",
        }
        if options.database_url:
            env["PORTAL_DATABASE_URL"] = options.database_url
        else:
            env.pop("PORTAL_DATABASE_URL", None)
        settings = Settings(data_dir=Path(folder), database_url=options.database_url)
        runtime, tenant_id = await prepare(settings, receiver.url)
        database = "PostgreSQL" if not runtime.db.is_sqlite else "SQLite (WAL)"
        print(f"database: {database}; receiver: uvicorn (httptools, uvloop), answers 204")
        seq = 0
        best = (0.0, 0)
        try:
            for concurrency in levels:
                worker = start_worker(env, concurrency)
                try:
                    await asyncio.sleep(2)  # started and migrated
                    receiver.stats("reset")
                    rate = await throughput(runtime, tenant_id, receiver, options.events, seq)
                    seq += options.events
                finally:
                    stop_worker(worker)
                print(
                    f"concurrency {concurrency:>3}: {rate:,.0f} signed deliveries/s ({options.events} events)"
                )
                best = max(best, (rate, concurrency))

            concurrency = int(os.environ.get("PORTAL_WORKER_CONCURRENCY", "16"))
            worker = start_worker(env, concurrency)
            try:
                await asyncio.sleep(2)
                receiver.stats("reset")
                delays = await first_attempt_delays(
                    runtime, tenant_id, receiver, options.delay_events, options.rate, seq
                )
            finally:
                stop_worker(worker)
        finally:
            await runtime.close()
            receiver.close()

    print(f"best: {best[0]:,.0f} deliveries/s at concurrency {best[1]} (target: at least 500)")
    print(
        f"commit -> first attempt at {options.rate:g} events/s, concurrency {concurrency}, worker in its own "
        f"process (polling, {Settings().worker_poll_seconds:g} s): p50 {statistics.median(delays):.0f} ms, "
        f"p95 {percentile(delays, 0.95):.0f} ms, max {max(delays):.0f} ms over {len(delays)} events "
        "(target: p95 under 1 s)"
    )


if __name__ == "__main__":
    asyncio.run(main())
