"""Login latency and authenticated request throughput, against the real server over loopback.

Starts `portal serve` (one uvicorn worker, default settings, argon2-cffi's default cost) on a fresh data
directory, measures login p50, then drives `GET /api/auth/me` with wrk and compares it with a bare
FastAPI endpoint that returns a constant: the ceiling of the framework on this machine.

    python benchmarks/auth_throughput.py [--duration 10] [--connections 32]

Needs wrk (`apt-get install wrk`).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._machine import machine_line

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not come up")


def wrk(url: str, headers: dict[str, str], duration: int, connections: int) -> tuple[float, float, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise SystemExit(f"wrk saw {non_2xx.group(1)} failed responses:\n{output}")

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(machine_line())

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PORTAL_DATA_DIR": folder, "PORTAL_LOGIN_RATE_LIMIT": "1000/minute"}
        env.pop("PORTAL_DATABASE_URL", None)
        demo = subprocess.run(
            [sys.executable, "-m", "portal.cli.main", "demo", "--json"],
            env=env,
            capture_output=True,
            check=True,
        )
        admin = next(u for u in json.loads(demo.stdout)["users"] if u["role"] == "admin")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "portal.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_dir = Path(folder, "bare")
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        bare_port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=bare_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/api/status")
            wait_until_up(f"http://127.0.0.1:{bare_port}/bare")
            timings = []
            with httpx.Client(base_url=base, headers={"X-Tenant": "acme"}) as client:
                for _ in range(20):
                    started = time.perf_counter()
                    response = client.post(
                        "/api/auth/login", json={"email": admin["email"], "password": admin["password"]}
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                token = response.json()["accessToken"]
            print(
                f"login p50: {statistics.median(timings):.1f} ms over {len(timings)} logins "
                "(argon2id with argon2-cffi defaults dominates)"
            )

            headers = {"X-Tenant": "acme", "Authorization": f"Bearer {token}"}
            wrk(f"{base}/api/auth/me", headers, 2, options.connections)  # warm-up
            me = wrk(f"{base}/api/auth/me", headers, options.duration, options.connections)
            wrk(f"http://127.0.0.1:{bare_port}/bare", {}, 2, options.connections)
            ceiling = wrk(f"http://127.0.0.1:{bare_port}/bare", {}, options.duration, options.connections)
        finally:
            server.terminate()
            bare.terminate()
            server.wait()
            bare.wait()

    print(f"GET /api/auth/me: {me[0]:,.0f} req/s, p50 {me[1]:.2f} ms, p99 {me[2]:.2f} ms")
    print(f"bare FastAPI    : {ceiling[0]:,.0f} req/s, p50 {ceiling[1]:.2f} ms, p99 {ceiling[2]:.2f} ms")
    print(f"ratio: {me[0] / ceiling[0]:.2f} of the ceiling (target: at least 0.25)")
    print(
        f"wrk: 2 threads, {options.connections} connections, {options.duration} s per run;"
        " one uvicorn worker each"
    )


if __name__ == "__main__":
    main()
