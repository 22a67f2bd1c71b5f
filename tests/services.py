"""The real PostgreSQL and Redis the suite runs against, or a clear skip where they are absent.

Under CI (`CI=true`) a missing server fails the run instead of skipping, so those tests always run there.
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis

from portal.db import Database
from portal.migrations import upgrade

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _unavailable(what: str, error: Exception) -> None:
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
        _unavailable("PostgreSQL", error)
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
        _unavailable("Redis", error)
    return REDIS_URL
