"""Login latency and authenticated request throughput, against the real server over loopback.

Starts `portal serve` (one uvicorn worker, default settings, argon2-cffi's default cost) on a fresh data
directory, measures login p50, then drives `GET /api/auth/me` with wrk and compares it with a bare
FastAPI endpoint that returns a constant: the ceiling of the framework on this machine.

Then `GET /api/docker-images` (the demo tenant's four images) with an access token and with an API key
(`ptk_...`): a key must reach at least 90% of a token's throughput. The key's rate limit is raised out
of the way (`PORTAL_API_KEY_RATE_LIMIT`), but still counted on every request, as in production.

Last, what recording an audit event adds to a write: the p50 of a write transaction on the server's
database (updating a user row and committing) with and without `record_audit` in it, in this process;
and, for scale, the p50 of a whole write request over HTTP (`PUT /api/webhooks/{id}`).

    python benchmarks/auth_throughput.py [--duration 10] [--connections 32]

Needs wrk (`apt-get install wrk`).
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._machine import machine_line
from benchmarks._server import BARE_APP, free_port


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


def api_key(base: str, headers: dict[str, str]) -> str:
    """A new user-role key of the demo tenant, made through the API by its admin."""
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"name": "benchmark", "role": "user", "expiresAt": expires}
    response = httpx.post(f"{base}/api/api-keys", headers=headers, json=body)
    response.raise_for_status()
    return str(response.json()["key"])


def http_write_p50(base: str, headers: dict[str, str], count: int = 300) -> float:
    """p50 of `PUT /api/webhooks/{id}` (one audited write) over HTTP, in ms."""
    with httpx.Client(base_url=base, headers=headers) as client:
        hook = client.post(
            "/api/webhooks", json={"url": "https://hooks.example.com/bench", "events": ["scan.completed"]}
        )
        hook.raise_for_status()
        path = f"/api/webhooks/{hook.json()['id']}"
        timings = []
        for index in range(count):
            started = time.perf_counter()
            client.put(path, json={"description": f"run {index}"}).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def audit_write_cost(data_dir: Path, count: int = 2000) -> tuple[float, float]:
    """p50 in ms of a write transaction on the portal's database without and with one audit event."""
    from sqlalchemy import select, update

    from portal.audit import AuditAction, AuditTarget, record_audit
    from portal.auth.actor import Actor, Origin
    from portal.config import Settings
    from portal.kit.clock import utcnow
    from portal.kit.tenancy import scoped
    from portal.runtime import Runtime
    from portal.tenants.models import Tenant
    from portal.users.models import Role, User

    runtime = Runtime.build(Settings(data_dir=data_dir))
    try:
        async with runtime.db.sessions() as session:
            tenant = (await session.execute(select(Tenant).where(Tenant.slug == "acme"))).scalar_one()
            user = (await session.execute(scoped(select(User), User, tenant.id).limit(1))).scalar_one()
        origin = Origin(ip="127.0.0.1", user_agent="benchmark", request_id="0" * 32)
        actor = Actor.user(user.id, user.email, Role(user.role), tenant.ref, origin)
        change = scoped(update(User), User, tenant.id).where(User.id == user.id)

        async def write(audited: bool) -> float:
            started = time.perf_counter()
            async with runtime.db.transaction() as session:
                await session.execute(change.values(updated_at=utcnow()))
                if audited:
                    target = AuditTarget("user", user.id, user.email)
                    record_audit(session, actor, AuditAction.USER_UPDATED, target, details={"role": "user"})
            return (time.perf_counter() - started) * 1000

        for _ in range(200):  # warm-up: connections, statement caches
            await write(False)
            await write(True)
        plain, audited = [], []
        for _ in range(count):
            plain.append(await write(False))
            audited.append(await write(True))
        return statistics.median(plain), statistics.median(audited)
    finally:
        await runtime.close()


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
        env = {
            **os.environ,
            "PORTAL_DATA_DIR": folder,
            "PORTAL_LOGIN_RATE_LIMIT": "1000/minute",
            "PORTAL_API_KEY_RATE_LIMIT": "1000000000/minute",
        }
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

            key_headers = {"X-Tenant": "acme", "Authorization": f"Bearer {api_key(base, headers)}"}
            images = f"{base}/api/docker-images"
            wrk(images, headers, 2, options.connections)
            wrk(images, key_headers, 2, options.connections)
            # Interleaved, so that whatever else the machine does weighs on both alike.
            by_token, by_key = [], []
            for _ in range(2):
                by_token.append(wrk(images, headers, options.duration, options.connections))
                by_key.append(wrk(images, key_headers, options.duration, options.connections))
            write_p50 = http_write_p50(base, headers)
        finally:
            server.terminate()
            bare.terminate()
            server.wait()
            bare.wait()
        # With the servers stopped, so that nothing else writes to the database meanwhile.
        plain, audited = asyncio.run(audit_write_cost(Path(folder)))

    print(f"GET /api/auth/me: {me[0]:,.0f} req/s, p50 {me[1]:.2f} ms, p99 {me[2]:.2f} ms")
    print(f"bare FastAPI    : {ceiling[0]:,.0f} req/s, p50 {ceiling[1]:.2f} ms, p99 {ceiling[2]:.2f} ms")
    print(f"ratio: {me[0] / ceiling[0]:.2f} of the ceiling (target: at least 0.25)")
    token_rps = statistics.mean(run[0] for run in by_token)
    key_rps = statistics.mean(run[0] for run in by_key)
    print(
        f"GET /api/docker-images, access token: {token_rps:,.0f} req/s "
        f"(runs: {', '.join(f'{run[0]:,.0f}' for run in by_token)}), p50 {by_token[-1][1]:.2f} ms"
    )
    print(
        f"GET /api/docker-images, API key     : {key_rps:,.0f} req/s "
        f"(runs: {', '.join(f'{run[0]:,.0f}' for run in by_key)}), p50 {by_key[-1][1]:.2f} ms"
    )
    print(
        f"API key / access token: {key_rps / token_rps:.2f} (target: at least 0.90); "
        f"token {token_rps / ceiling[0]:.2f}, key {key_rps / ceiling[0]:.2f} of the ceiling"
    )
    print(
        f"write transaction p50: {plain:.3f} ms without an audit event, {audited:.3f} ms with one: "
        f"the audit write adds {audited - plain:.3f} ms (target: under 1 ms); "
        f"a whole write request (PUT /api/webhooks/{{id}}) p50 {write_p50:.2f} ms"
    )
    print(
        f"wrk: 2 threads, {options.connections} connections, {options.duration} s per run;"
        " one uvicorn worker each"
    )


if __name__ == "__main__":
    main()
