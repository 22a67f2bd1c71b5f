"""Alembic migrations: the only source of the schema."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from portal.db import Database

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Brings the database to `revision`, on the engine the process already has."""
    if db.is_sqlite:
        db.url_path_parent_mkdir()

    def run(connection: Connection) -> None:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(run)


def upgrade_sync(db: Database, revision: str = "head") -> None:
    asyncio.run(upgrade(db, revision))
