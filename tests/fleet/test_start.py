"""Starting a fleet: any number of processes on a fresh PostgreSQL database at once, `--no-migrate` for a
release step that migrates, and what `serve` refuses or warns about where hosts share the data."""

import asyncio
import os
import subprocess
import sys
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import httpx
import pytest

from portal.db import Database
from portal.migrations import current_revision, head_revision, upgrade
from tests import services
from tests.live_server import free_port

PORTAL = str(Path(sys.executable).parent / "portal")


def portal_env(**env: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    return {**clean, "PORTAL_LOG_LEVEL": "WARNING", **env}


@pytest.fixture
async def fresh_pg_url(postgres_template: services.PostgresTemplate) -> object:
    name = await postgres_template.create_empty()
    try:
        yield postgres_template.url(name)
    finally:
        await postgres_template.drop(name)


async def test_processes_starting_together_on_a_fresh_database_all_migrate_it(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    env = portal_env(PORTAL_DATABASE_URL=fresh_pg_url, PORTAL_DATA_DIR=str(tmp_path))
    upgrade_command = [PORTAL, "db", "upgrade", "--json"]
    racers = [
        asyncio.create_subprocess_exec(*upgrade_command, env=env, stdout=PIPE, stderr=PIPE) for _ in range(4)
    ]
    processes = await asyncio.gather(*racers)
    results = [await process.communicate() for process in processes]

    assert [process.returncode for process in processes] == [0] * 4, [err.decode() for _, err in results]
    db = Database(fresh_pg_url)
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_one_process_many_engines_racing_the_first_migration(fresh_pg_url: str) -> None:
    engines = [Database(fresh_pg_url) for _ in range(6)]
    try:
        done = await asyncio.gather(*(upgrade(db) for db in engines))
    finally:
        for db in engines:
            await db.dispose()

    assert sorted(step.before is None for step in done) == [False] * 5 + [True]
    assert {step.after for step in done} == {head_revision()}


def test_serve_on_postgresql_without_a_secret_key_refuses_and_says_what_to_set(tmp_path: Path) -> None:
    env = portal_env(PORTAL_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:9/none")

    result = subprocess.run(
        [PORTAL, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert "PORTAL_SECRET_KEY is not set" in result.stderr and "Set PORTAL_SECRET_KEY" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no key was made up on disk


async def test_serve_no_migrate_refuses_a_database_without_the_schema_and_warns_without_redis(
    fresh_pg_url: str, tmp_path: Path
) -> None:
    env = portal_env(
        PORTAL_DATABASE_URL=fresh_pg_url, PORTAL_SECRET_KEY="k" * 64, PORTAL_DATA_DIR=str(tmp_path)
    )

    result = await asyncio.to_thread(
        subprocess.run, [PORTAL, "serve", "--no-migrate"], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert "PORTAL_REDIS_URL is not set" in result.stderr
    assert "has no Portal schema yet: run `portal db upgrade`" in result.stderr
    worker = await asyncio.to_thread(
        subprocess.run,
        [PORTAL, "worker", "--no-migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 1
    assert "has no Portal schema yet" in worker.stderr
    assert "PORTAL_REDIS_URL is not set" not in worker.stderr  # a worker counts no logins
    db = Database(fresh_pg_url)
    try:
        assert await current_revision(db) is None  # --no-migrate touched nothing
    finally:
        await db.dispose()


def test_serve_no_migrate_serves_a_current_database(tmp_path: Path) -> None:
    env = portal_env(PORTAL_DATA_DIR=str(tmp_path / "data"))
    subprocess.run([PORTAL, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    server = subprocess.Popen(
        [PORTAL, "serve", "--no-migrate", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["checks"]["database"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
