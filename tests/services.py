"""The real PostgreSQL and Redis the suite runs against, or a clear skip where they are absent.

Under CI (`CI=true`) a missing server fails the run instead of skipping, so those tests always run there.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis

from portal.db import Database
from portal.migrations import upgrade

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unavailable(what: str, error: Exception) -> None:
    reason = (
        f"{what} not reachable ({type(error).__name__}: {error}); "
        "point PORTAL_TEST_DATABASE_URL / PORTAL_TEST_REDIS_URL at a server"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _async_url(url: str, database: str) -> str:
    base = url.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database


def _blocking(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs set-up work on a loop of its own, also when called from inside a running test loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class PostgresTemplate:
    """One migrated database per session; each test gets a copy (CREATE DATABASE ... TEMPLATE)."""

    def __init__(self) -> None:
        self.name = f"portal_test_tmpl_{uuid.uuid4().hex[:12]}"
        self.created: list[str] = []

    def create(self) -> None:
        _blocking(_admin(f'CREATE DATABASE "{self.name}"'))

        async def migrate() -> None:
            db = Database(_async_url(PG_URL, self.name))
            await upgrade(db)
            await db.dispose()

        _blocking(migrate())

    async def copy(self) -> str:
        name = f"portal_test_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return name

    async def create_empty(self) -> str:
        """A database without the schema, as an operator's new server has."""
        name = f"portal_test_{uuid.uuid4().hex[:12]}"
        await _admin(f'CREATE DATABASE "{name}"')
        return name

    async def drop(self, name: str) -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, name: str) -> str:
        return _async_url(PG_URL, name)

    def destroy(self) -> None:
        _blocking(self.drop(self.name))


def postgres_template() -> PostgresTemplate:
    try:
        _blocking(_admin("SELECT 1"))
    except Exception as error:  # any failure to reach the server means: no PostgreSQL here
        unavailable("PostgreSQL", error)
    template = PostgresTemplate()
    template.create()
    return template


def sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()

    _blocking(migrate())
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "portal.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


def redis_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as error:  # any failure to reach the server means: no Redis here
        unavailable("Redis", error)
    return REDIS_URL


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that a test may stop (SIGSTOP) like a network
    black hole; the shared Redis is never touched."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.url = f"redis://127.0.0.1:{port}/0"

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    from tests.live_server import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = PrivateRedis(process, port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        server.thaw()
        process.terminate()
        process.wait(10)
