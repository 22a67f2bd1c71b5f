"""What one cached read costs inside the process: the portal's ASGI app called directly, as uvicorn calls
it, without sockets or wrk, beside a bare FastAPI endpoint called the same way.

On a shared 2-core machine wrk's figures (benchmarks/fleet.py) move by a sixth between two runs of the
same code, since wrk, the server and everyone else share the cores; this measures the part the portal's
code decides, one request after another, and reports the best of several rounds, which the machine's
other work can only make slower. The demo tenant on a fresh SQLite database; a user's bearer token.

    python benchmarks/read_path.py [--requests 2000] [--rounds 10]
"""

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._machine import machine_line, machine_load
from benchmarks._server import BARE_APP

Scope = dict[str, Any]


def request_scope(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(app: Any, scope: Scope) -> int:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app({**scope, "state": {}}, receive, send)
    status: int = messages[0]["status"]
    return status


async def best_of(app: Any, scope: Scope, requests: int, rounds: int) -> float:
    """µs per request in the fastest round."""
    if await call(app, scope) != 200:
        raise SystemExit(f"{scope['path']} did not answer 200")
    for _ in range(requests // 4):
        await call(app, scope)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            await call(app, scope)
        best = min(best, (time.perf_counter() - started) / requests * 1e6)
    return best


def bare_app() -> FastAPI:
    """The ceiling fleet.py serves with uvicorn (`benchmarks._server.BARE_APP`), built from the same
    source so that both benchmarks compare against one endpoint."""
    namespace: dict[str, Any] = {}
    exec(BARE_APP, namespace)
    app: FastAPI = namespace["app"]
    return app


def seed_demo() -> dict[str, str]:
    """The demo tenant in PORTAL_DATA_DIR; its admin's email and password."""
    demo = subprocess.run(
        [sys.executable, "-m", "portal.cli.main", "demo", "--json"], capture_output=True, check=True
    )
    admin: dict[str, str] = next(user for user in json.loads(demo.stdout)["users"] if user["role"] == "admin")
    return admin


async def measure(admin: dict[str, str], requests: int, rounds: int) -> dict[str, float]:
    from portal.app import GC_THRESHOLDS, create_app

    app = create_app()
    figures: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        gc.freeze()  # as `portal serve` does once started (portal.app.served_app)
        gc.set_threshold(*GC_THRESHOLDS)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            login = await client.post(
                "/api/auth/login",
                headers={"X-Tenant": "acme"},
                json={"email": admin["email"], "password": admin["password"]},
            )
            login.raise_for_status()
            headers = {
                "host": "127.0.0.1:8000",
                "user-agent": "wrk",
                "x-tenant": "acme",
                "authorization": f"Bearer {login.json()['accessToken']}",
            }
            images = (await client.get("/api/docker-images", headers=headers)).json()["items"]
        image = next(image for image in images if image["name"] == "python")
        version = image["latestVersion"]["id"]
        routes = {
            "GET /api/docker-images": "/api/docker-images",
            "GET /api/docker-images/{id}": f"/api/docker-images/{image['id']}",
            "GET .../scan-history": f"/api/docker-images/{image['id']}/versions/{version}/scan-history",
            "GET /api/status": "/api/status",
        }
        for label, path in routes.items():
            figures[label] = await best_of(app, request_scope(path, headers), requests, rounds)
    figures["bare FastAPI endpoint"] = await best_of(
        bare_app(), request_scope("/bare", {"host": "127.0.0.1:8000"}), requests, rounds
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()
    print(machine_line())
    print(f"at start: {machine_load()}")
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            PORTAL_DATA_DIR=folder,
            PORTAL_RUN_WORKER="false",
            PORTAL_LOGIN_RATE_LIMIT="1000/minute",
        )
        os.environ.pop("PORTAL_DATABASE_URL", None)
        admin = seed_demo()
        # The access log is written as under `portal serve`, to where the benchmark does not print.
        with open(os.devnull, "w") as devnull:
            stderr, sys.stderr = sys.stderr, devnull
            try:
                figures = asyncio.run(measure(admin, options.requests, options.rounds))
            finally:
                sys.stderr = stderr
    print(f"\nin-process cost of a request, best of {options.rounds} rounds of {options.requests}:")
    for label, micros in figures.items():
        print(f"  {label:28s} {micros:6.1f} µs")
    print(f"({machine_load()} at the end)")


if __name__ == "__main__":
    main()
