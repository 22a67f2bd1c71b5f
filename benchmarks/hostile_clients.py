"""What hostile or unlucky clients cost a real server: issue 12's measurements, repeatable.

Starts `portal serve` (one uvicorn process, argon2-cffi's default cost, the proxy on 127.0.0.1 trusted so
each login can come from its own address) on a fresh demo data directory, then measures:

- reads: p50/p95 of `GET /api/docker-images` alone, and while wrong-password logins arrive at 5/s from
  distinct addresses;
- a burst of 60 concurrent logins from distinct addresses: the server's peak memory and the answers;
- six concurrent connections each sending one 64 MiB header: peak memory, the answers, and the slowest
  read meanwhile (how long the event loop was blocked);
- a stalled Redis (a private redis-server, SIGSTOP): how long one login takes to answer, and with what.

    python benchmarks/hostile_clients.py [--flood-seconds 10]
"""

import argparse
import asyncio
import ipaddress
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._machine import machine_line
from benchmarks._server import free_port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PORTAL_DATA_DIR": str(data_dir),
            "PORTAL_LOG_LEVEL": "WARNING",
            "PORTAL_RUN_WORKER": "false",
            "PORTAL_TRUSTED_PROXIES": "127.0.0.1",
            **env,
        }
        command = [sys.executable, "-m", "portal.cli.main", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/status", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class PeakMemory:
    """Samples the server's resident memory every 20 ms while in use."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0.0, None

    async def __aenter__(self) -> "PeakMemory":
        async def sample() -> None:
            while True:
                self.peak = max(self.peak, rss_mb(self.pid))
                await asyncio.sleep(0.02)

        self._task = asyncio.create_task(sample())  # type: ignore[assignment]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    median = statistics.median(ordered)
    return f"p50 {median:.0f} ms, p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms (n={len(ordered)})"


async def reads(client: httpx.AsyncClient, headers: dict[str, str], seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        await client.get("/api/docker-images", headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    return latencies


async def wrong_login(client: httpx.AsyncClient, address: int) -> int:
    response = await client.post(
        "/api/auth/login",
        headers={"X-Tenant": "acme", "X-Forwarded-For": str(ipaddress.IPv4Address(0x0A000000 + address))},
        json={"email": "admin@acme.example", "password": "not the password"},
        timeout=120,
    )
    return response.status_code


async def flood(client: httpx.AsyncClient, seconds: float, rate: float) -> Counter[int]:
    tasks = []
    for index in range(int(seconds * rate)):
        tasks.append(asyncio.create_task(wrong_login(client, 1000 + index)))
        await asyncio.sleep(1 / rate)
    return Counter(await asyncio.gather(*tasks))


async def huge_header(port: int, size: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * (1 << 20)
        for _ in range(size >> 20):
            writer.write(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 30)
            except (ConnectionError, TimeoutError):
                break
        writer.write(b"\r\n\r\n")
        line = await asyncio.wait_for(reader.readline(), 60)
        return line.decode(errors="replace").strip() or "closed"
    except (ConnectionError, TimeoutError) as error:
        return type(error).__name__
    finally:
        writer.close()


async def measure_server(server: Server, token_headers: dict[str, str], flood_seconds: float) -> None:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as client:
        print(f"  reads alone:                 {percentiles(await reads(client, token_headers, 5))}")
        async with PeakMemory(server.process.pid) as memory:
            answers, latencies = await asyncio.gather(
                flood(client, flood_seconds, 5), reads(client, token_headers, flood_seconds)
            )
        print(f"  reads during 5 logins/s:     {percentiles(latencies)}")
        print(f"    login answers {dict(answers)}, peak memory {memory.peak:.0f} MB")
        baseline = rss_mb(server.process.pid)
        async with PeakMemory(server.process.pid) as memory:
            burst = Counter(await asyncio.gather(*(wrong_login(client, 200000 + i) for i in range(60))))
        print(
            f"  60 concurrent logins:        memory {baseline:.0f} -> peak {memory.peak:.0f} MB, "
            f"answers {dict(burst)}"
        )
        baseline = rss_mb(server.process.pid)
        async with PeakMemory(server.process.pid) as memory:
            started = time.perf_counter()
            heads, latencies = await asyncio.gather(
                asyncio.gather(*(huge_header(server.port, 64 << 20) for _ in range(6))),
                reads(client, token_headers, 3),
            )
            elapsed = time.perf_counter() - started
        print(
            f"  six 64 MiB headers:          memory {baseline:.0f} -> peak {memory.peak:.0f} MB, "
            f"answers {dict(Counter(heads))}, slowest read meanwhile {max(latencies):.0f} ms, {elapsed:.1f} s"
        )


async def stalled_login(server: Server, redis: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        await wrong_login(client, 1)  # the connection pool is warm
        redis.send_signal(signal.SIGSTOP)
        started = time.perf_counter()
        try:
            answer = str(await asyncio.wait_for(wrong_login(client, 2), 90))
        except TimeoutError:
            answer = "no answer"
        print(f"  login with Redis stopped:    {answer} after {time.perf_counter() - started:.2f} s")


def stalled_redis(data_dir: Path) -> None:
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    server = None
    try:
        time.sleep(0.5)
        server = Server(data_dir, PORTAL_REDIS_URL=f"redis://127.0.0.1:{port}/0")
        asyncio.run(stalled_login(server, redis))
    finally:
        redis.send_signal(signal.SIGCONT)
        redis.terminate()
        redis.wait(10)
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flood-seconds", type=float, default=10)
    options = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        seeded = subprocess.run(
            [sys.executable, "-m", "portal.cli.main", "demo", "--json"],
            env={**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            check=True,
        )
        users = json.loads(seeded.stdout.strip().splitlines()[-1])["users"]
        server = Server(data_dir)
        try:
            login = httpx.post(
                f"{server.url}/api/auth/login",
                headers={"X-Tenant": "acme"},
                json={"email": users[0]["email"], "password": users[0]["password"]},
                timeout=30,
            ).json()
            token_headers = {"X-Tenant": "acme", "Authorization": f"Bearer {login['accessToken']}"}
            asyncio.run(measure_server(server, token_headers, options.flood_seconds))
        finally:
            server.stop()
        stalled_redis(data_dir)


if __name__ == "__main__":
    main()
