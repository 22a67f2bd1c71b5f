"""`portal serve` for a benchmark: started on a free port in a process of its own, waited for until it
answers, a client signed in as a tenant's user, and stopped however the benchmark ends. And the bare
FastAPI endpoint a benchmark compares a route with: the framework's ceiling on this machine."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from portal.config import Settings

ROOT = Path(__file__).resolve().parent.parent

BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def wait_until_up(
    base: str, server: subprocess.Popen[bytes], within: float = 30, path: str = "/api/status"
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server at {base} exited with {server.returncode}")
        try:
            if httpx.get(f"{base}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not start within {within:.0f} s")


def stop(*processes: subprocess.Popen[bytes]) -> None:
    """Asks each process to end, then kills those that have not within 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a `portal serve` on the benchmark's database, without a worker of its own."""
    return {
        **os.environ,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_DATABASE_URL": settings.effective_database_url,
        "PORTAL_SECRET_KEY": settings.effective_secret_key,
        "PORTAL_RUN_WORKER": "false",
        "PORTAL_LOG_LEVEL": "WARNING",
        **overrides,
    }


@dataclass(frozen=True)
class Serving:
    base: str
    port: int
    process: subprocess.Popen[bytes]


@contextmanager
def serving(env: Mapping[str, str], *, stderr: IO[str] | int = subprocess.DEVNULL) -> Iterator[Serving]:
    """`portal serve` with this environment, up and answering until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli.main", "serve", "--port", str(port)],
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        server = Serving(f"http://127.0.0.1:{port}", port, process)
        wait_until_up(server.base, process)
        yield server
    finally:
        stop(process)


def bearer_headers(client: httpx.Client, tenant: str, email: str, password: str) -> dict[str, str]:
    """The headers of a request as this user, signed in with the API's login."""
    login = client.post(
        "/api/auth/login", headers={"X-Tenant": tenant}, json={"email": email, "password": password}
    )
    login.raise_for_status()
    return {"X-Tenant": tenant, "Authorization": f"Bearer {login.json()['accessToken']}"}


@dataclass(frozen=True)
class SignedIn:
    server: Serving
    client: httpx.Client
    # X-Tenant and the user's bearer token
    headers: dict[str, str]


@contextmanager
def signed_in(env: Mapping[str, str], tenant: str, email: str, password: str) -> Iterator[SignedIn]:
    """A running server and a client signed in to it as the tenant's user."""
    with serving(env) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        yield SignedIn(server, client, bearer_headers(client, tenant, email, password))


@contextmanager
def bare_fastapi() -> Iterator[str]:
    """The URL of a bare FastAPI endpoint that returns a constant, under one uvicorn worker as `portal
    serve` runs, up and answering until the block ends."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bare_app.py").write_text(BARE_APP)
        port = free_port()
        quiet = ["--log-level", "warning", "--no-access-log"]
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), *quiet],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, process, path="/bare")
            yield f"{base}/bare"
        finally:
            stop(process)
