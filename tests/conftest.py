import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from tests import services
from tests.browser import browser, chromium  # noqa: F401  (fixtures for every test of a page)

# Cheap argon2 parameters keep the suite fast; the defaults stay argon2-cffi's.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return services.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[services.PostgresTemplate]:
    template = services.postgres_template()
    yield template
    template.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A freshly migrated database of each kind the portal supports, dropped after the test."""
    if request.param == "sqlite":
        yield services.sqlite_copy(sqlite_template, tmp_path)
        return
    template: services.PostgresTemplate = request.getfixturevalue("postgres_template")
    name = await template.copy()
    try:
        yield template.url(name)
    finally:
        await template.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of each kind without the schema; the SQLite file does not exist yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'portal.db'}"
        return
    template: services.PostgresTemplate = request.getfixturevalue("postgres_template")
    name = await template.create_empty()
    try:
        yield template.url(name)
    finally:
        await template.drop(name)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret_key": "test-secret-key-" + uuid.uuid4().hex,
        "auth_cache_seconds": 0,
        # A test that changes data through another runtime (the command line) reads it again at once: the
        # read cache rereads its revisions on every request, the status probe checks again.
        "read_cache_seconds": 0,
        "status_cache_seconds": 0,
        "log_level": "WARNING",
        # Apps built by tests deliver no webhooks unless a test asks for its worker.
        "run_worker": False,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    yield runtime
    await runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime)


def client_for(app: FastAPI, client_ip: str = "198.51.100.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client
