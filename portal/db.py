"""Engine, sessions and the declarative base. The request, job or command boundary commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _JSONDocument(TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL. The PostgreSQL type is picked when a statement is compiled for
    that dialect, so a process on SQLite never imports the PostgreSQL dialect (a command's start-up)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONDocument = _JSONDocument()


def upsert_for(dialect_name: str) -> Callable[[Any], postgresql.Insert | sqlite.Insert]:
    """The `INSERT ... ON CONFLICT` of the dialect (PostgreSQL's or SQLite's), imported when first used."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class TenantOwned:
    """Marks a table whose rows belong to one tenant; queries on it go through `kit.tenancy.scoped`.
    Its rows go with the tenant."""

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


# True while a session's unit of work writes what it holds; kit.tenancy lets those statements through.
flushing: ContextVar[bool] = ContextVar("portal_flushing", default=False)


class PortalSession(Session):
    def flush(self, objects: Sequence[Any] | None = None) -> None:
        token = flushing.set(True)
        try:
            super().flush(objects)
        finally:
            flushing.reset(token)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """How many connections a process keeps (`size`), how many more it may open under a burst
    (`overflow`), and how long a session waits for one before it fails (`timeout`, seconds)."""

    size: int = 10
    overflow: int = 20
    timeout: float = 30.0


def create_engine(url: str, *, echo: bool = False, pool: PoolLimits | None = None) -> AsyncEngine:
    pool = pool or PoolLimits()
    # An unhandled database error is logged with its message, and SQLAlchemy's message lists the
    # statement's values: password hashes, token hashes, emails. Keep them out.
    if _is_sqlite(url):
        # A file database gets the same limits as PostgreSQL; an in-memory one is a single connection
        # that SQLAlchemy shares (StaticPool), where limits mean nothing.
        limits: dict[str, Any] = (
            {}
            if ":memory:" in url or "mode=memory" in url
            else {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
        )
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": 30}, **limits
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # WAL lets the command line write while the server reads; the busy timeout makes
            # writers wait for each other instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout,
        pool_pre_ping=True,
    )


class Database:
    def __init__(
        self,
        url: str,
        session_info: dict[str, Any] | None = None,
        *,
        pool: PoolLimits | None = None,
    ) -> None:
        self.url = url
        self.engine = create_engine(url, pool=pool)
        # Each session starts with a copy of `session_info`: what commit hooks need (a runtime's signals).
        self.sessions = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            autoflush=False,
            info=session_info or {},
            sync_session_class=PortalSession,
        )

    @property
    def is_sqlite(self) -> bool:
        return _is_sqlite(self.url)

    def url_path_parent_mkdir(self) -> None:
        """Creates the folder of a SQLite file, so a fresh data directory just works."""
        database = self.engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends normally, rolls back on an exception."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
