"""Alembic migrations: the only source of the schema.

Each file in `versions/` is named after its revision (`0007_feature.py` holds revision "0007") and the
chain is one line, so the newest revision is the highest file name: a command can tell whether a database
is current without loading Alembic (`tests/test_migrations.py` holds the files to that)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

    from portal.db import Database

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config(url: str) -> Config:
    import sys

    from alembic.config import Config

    # Alembic's default is the sys.stdout of when it was first imported, which may be gone since.
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The revision this code's schema is at."""
    return max(
        match.group(1) for path in (HERE / "versions").iterdir() if (match := _REVISION_FILE.match(path.name))
    )


# Any number of processes may start on a fresh PostgreSQL database at once: each migrates inside one
# transaction that first takes this lock, so the others wait, then find the schema current. A number,
# because PostgreSQL's advisory locks are keyed by one (this one spells "portalmg" in ASCII).
MIGRATION_LOCK = 0x706F7274616C6D67


def _revision_of(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revision = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return str(revision) if revision is not None else None


async def current_revision(db: Database) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_revision_of)


@dataclass(frozen=True)
class Upgrade:
    before: str | None
    after: str


async def upgrade(db: Database, revision: str = "head") -> Upgrade:
    """Brings the database to `revision`, on the engine the process already has; on PostgreSQL under an
    advisory lock held until the migration commits (PostgreSQL's DDL is transactional). A database
    already at the head is left as it is without loading Alembic and its migrations (about half of what
    `portal db upgrade` took when it had nothing to do; `serve` and `worker` start through here too)."""
    if db.is_sqlite:
        db.url_path_parent_mkdir()

    def run(connection: Connection) -> Upgrade:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = _revision_of(connection)
        if revision == "head" and before == head_revision():
            return Upgrade(before=before, after=before)
        from alembic import command

        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        return Upgrade(before=before, after=_revision_of(connection) or "")

    async with db.engine.begin() as connection:
        return await connection.run_sync(run)


def upgrade_sync(db: Database, revision: str = "head") -> Upgrade:
    return asyncio.run(upgrade(db, revision))
