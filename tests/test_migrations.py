from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal.db import Database
from portal.migrations import alembic_config, head_revision, upgrade
from tests import services


def test_the_migrations_build_exactly_the_models_schema(sqlite_template: Path) -> None:
    """Alembic is the only source of the schema; a model changed without a migration fails here."""
    command.check(alembic_config(f"sqlite+aiosqlite:///{sqlite_template}"))


def test_each_file_is_named_after_its_revision_so_the_newest_is_the_highest_name() -> None:
    """Commands tell whether a database is current from the file names alone (`head_revision`)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for script in scripts.walk_revisions():
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert scripts.get_heads() == [head_revision()]


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        yield db
        await db.dispose()
        return
    template: services.PostgresTemplate = request.getfixturevalue("postgres_template")
    name = await template.create_empty()
    db = Database(template.url(name))
    try:
        yield db
    finally:
        await db.dispose()
        await template.drop(name)


async def test_creators_recorded_before_actors_keep_their_user(empty_database: Database) -> None:
    await upgrade(empty_database, "0006")
    now = "2026-01-02 03:04:05"
    async with empty_database.transaction() as session:
        for statement in (
            f"INSERT INTO tenants VALUES ('t1', 'acme', 'Acme', '{now}')",
            "INSERT INTO users (id, tenant_id, email, role, password_hash, active, created_at, updated_at)"
            f" VALUES ('u1', 't1', 'ann@acme.example', 'admin', 'x', true, '{now}', '{now}')",
            "INSERT INTO cve_watches (id, tenant_id, cve_id, created_at, created_by)"
            f" VALUES ('w1', 't1', 'CVE-2024-0001', '{now}', 'u1')",
            "INSERT INTO feature_requests (id, tenant_id, type, title, description, status, created_by_id,"
            f" created_at, updated_at) VALUES ('r1', 't1', 'bug', 'Title', 'Text', 'open', 'u1', '{now}',"
            f" '{now}')",
        ):
            await session.execute(text(statement))
    await upgrade(empty_database, "0007")
    async with empty_database.transaction() as session:
        for table in ("cve_watches", "feature_requests"):
            columns = "created_by_type, created_by_id, created_by_name, created_by_email"
            row = (await session.execute(text(f"SELECT {columns} FROM {table}"))).one()
            assert tuple(row) == ("user", "u1", "ann@acme.example", "ann@acme.example"), table
