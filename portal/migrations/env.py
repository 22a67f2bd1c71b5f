from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

import portal.models  # noqa: F401  (registers every table on the metadata)
from portal.db import Base
from portal.kit.tenancy import migrating

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    migrating(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    import asyncio

    async def run_async() -> None:
        engine = create_async_engine(
            context.config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool
        )
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(run_async())


run_online()
