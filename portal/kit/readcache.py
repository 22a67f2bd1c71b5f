"""Answers kept in memory until what they were made of changes: the read cache.

Reads that many callers repeat (a tenant's catalog, an image's detail, a version's scan history, SBOM
documents) are kept per process, on the `Runtime` (`runtime.read_cache`). Each cached answer names the
*topics* it is made of. A write that changes a topic's data calls `changed(session, TOPIC)` in its
transaction; the commit then

- bumps the topic's row in `cache_revisions`, in that same transaction (a rollback bumps nothing);
- forgets, in this process, every answer made of that topic, at once;
- on PostgreSQL, sends `NOTIFY portal_cache`, which makes every other process reread the revisions.

Every process also rereads the revisions (one small query) at most every `PORTAL_READ_CACHE_SECONDS`
(default 1 s) when it serves from the cache. So an answer never outlives a change committed by another
process by more than that bound (on PostgreSQL with its listener connected, by a notification's few
milliseconds), and never outlives one made by the same process at all. An answer is stored with the
revisions read *before* it was computed, so a change committed while it was being computed makes it
stale too. Keys always hold the tenant (and role) the answer was made for; answers never cross tenants.

Some answers go stale by time alone: one made of a tenant's analysis that expires at noon is wrong after
noon though nothing was written. What computes such an answer calls `lasts_until(moment)` (by the
runtime's clock); the answer being computed, and every answer made of it, is then served no later than
that moment.

A feature that caches something, or whose writes change what others cache, declares its topic here
(`Topic("name")`) and calls `changed(session, TOPIC)` wherever it writes that data; it reads through
`runtime.read_cache.load(...)` or a route's `cached(TOPIC, ...)`. A caller that holds a database session
(inside a handler) passes it (`load(..., session=...)`, `revisions(..., session)`): a request holding a
connection never waits for work that needs a second, or a pool as busy as its requests deadlocks until
its timeout. Topics in use: `CATALOG` (publish,
unpublish, grant, revoke), `SCANS` (a scan recorded), `INTEL` (KEV or EPSS imported), `VEX` (a statement
imported, added or revoked, an analysis recorded or withdrawn), `IDENTITIES` (an API key revoked, a
user's role, active state or password changed: `auth.cache` forgets who callers are).
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, Database, upsert_for
from portal.kit.clock import Clock, utcnow
from portal.kit.wakeup import CACHE_CHANNEL, mark

V = TypeVar("V")

_CHANGED = "portal_cache_changed"


class CacheRevision(Base):
    """How many committed changes each topic has seen; compared, never interpreted."""

    __tablename__ = "cache_revisions"

    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class Topic:
    name: str


CATALOG = Topic("catalog")
# the vendor's VEX statements and tenants' analyses (`portal.vex`): what summaries count as suppressed
VEX = Topic("vex")
SCANS = Topic("scans")
INTEL = Topic("intel")
IDENTITIES = Topic("identities")


def changed(session: AsyncSession | Session, *topics: Topic) -> None:
    """This transaction changes the data of `topics`: answers made of them go stale when it commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_CHANGED, set()).update(topic.name for topic in topics)
    mark(sync, CACHE_CHANNEL)


@event.listens_for(Session, "before_commit")
def _bump_revisions(session: Session) -> None:
    names = session.info.pop(_CHANGED, None)
    if not names:
        return
    insert = upsert_for(session.get_bind().dialect.name)
    for name in sorted(names):  # one order everywhere: two committers never wait on each other in a cycle
        statement = insert(CacheRevision).values(topic=name, revision=1)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CacheRevision.topic], set_={"revision": CacheRevision.revision + 1}
            )
        )


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: object) -> None:
    session.info.pop(_CHANGED, None)


@dataclass(slots=True)
class Deadline:
    """The earliest moment at which what is being computed goes stale by time alone (None: never)."""

    moment: datetime | None = None

    def note(self, moment: datetime | None) -> None:
        if moment is not None and (self.moment is None or moment < self.moment):
            self.moment = moment


# The deadline of the answer being computed in this task, if one is (see `computing`).
_DEADLINE: ContextVar[Deadline | None] = ContextVar("portal_cache_deadline", default=None)


def lasts_until(moment: datetime | None) -> None:
    """What is being computed now holds only until `moment` (the runtime's clock): a cached answer made
    of it is served no later."""
    deadline = _DEADLINE.get()
    if deadline is not None:
        deadline.note(moment)


@contextmanager
def computing() -> Iterator[Deadline]:
    """A scope computing one answer: collects the deadlines noted in it, and passes them on to the
    answer (if any) being computed around it."""
    deadline = Deadline()
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)
        lasts_until(deadline.moment)


@dataclass(frozen=True, slots=True)
class _Entry:
    revisions: tuple[int, ...]
    value: Any
    size: int
    until: datetime | None = None


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class ReadCache:
    def __init__(self, db: Database, max_age_seconds: float, max_bytes: int, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.max_age = max_age_seconds
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._revisions: dict[str, int] = {}
        self._read_at = float("-inf")
        # Bumped by every sign that the revisions moved; a reread that began before it does not count.
        self._generation = 0
        self._read_generation = -1
        self._reading: asyncio.Future[None] | None = None
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        # Told of every lookup (the metrics' hit ratio).
        self.on_lookup: Callable[[bool], None] | None = None

    def expire(self) -> None:
        """Something committed a change (here, or another process said so): reread before serving."""
        self._generation += 1

    async def revisions(
        self, topics: tuple[Topic, ...], session: AsyncSession | None = None
    ) -> tuple[int, ...]:
        """The topics' revisions as this process knows them, reread if older than the bound.

        `session`: the caller's, when it holds one (a request inside its handler). A stale caller then
        rereads with it rather than wait for the shared reread, which needs a connection of its own: a
        request holding a connection never waits for work that needs a second, or a pool as busy as its
        requests would have each of them wait for connections the others hold, until its timeout.

        Past half the bound a reread starts in the background and the known revisions are served
        meanwhile: under steady load they are renewed before they pass the bound, and no request waits
        for the database at the moment they would (which, with thirty-two requests waiting behind one
        query on a busy machine, made the slowest one in a hundred take a tenth of a second)."""
        if not topics:
            return ()
        if self._stale():
            if session is not None:
                # as the caller's transaction sees them, for this caller only: what it computes with
                # that session is made of this moment's data, and the process's revisions are renewed
                # by the shared reread, started here if none is under way.
                self._reading_now()
                known = await _read_revisions(session)
                return tuple(known.get(topic.name, 0) for topic in topics)
            await self._reread()
        elif time.monotonic() - self._read_at > self.max_age / 2:
            self._reading_now()
        return tuple(self._revisions.get(topic.name, 0) for topic in topics)

    def get(self, key: Hashable, revisions: tuple[int, ...]) -> Any | None:
        """The answer kept for `key` if made at these revisions and not past its deadline; a hit inside
        `computing()` passes its deadline on."""
        entry = self._entries.get(key)
        hit = (
            entry is not None
            and entry.revisions == revisions
            and (entry.until is None or self.clock() < entry.until)
        )
        if self.on_lookup is not None:
            self.on_lookup(hit)
        if not hit or entry is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        lasts_until(entry.until)
        return entry.value

    def put(
        self, key: Hashable, revisions: tuple[int, ...], value: Any, size: int, until: datetime | None = None
    ) -> None:
        if size > self.max_bytes // 4:
            return  # one answer may not push out everything else
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[key] = _Entry(revisions, value, size, until)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _key, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    async def load(
        self,
        key: Hashable,
        topics: tuple[Topic, ...],
        compute: Callable[[], Awaitable[V]],
        size: Callable[[V], int] = lambda _value: 1024,
        *,
        session: AsyncSession | None = None,
    ) -> V:
        """The cached answer for `key`, or `compute()`'s.

        Without `session`, computed once however many callers wait for it, in a task of its own, so
        `compute` opens its own database session (call it so only while holding no connection). With
        the caller's `session` (which `compute` may use), the revisions are read with it when stale and
        `compute` runs in the caller's task: two callers that miss at once compute it each, and neither
        waits for a connection it does not hold (see `revisions`)."""
        revisions = await self.revisions(topics, session)
        found = self.get(key, revisions)
        if found is not None:
            value: V = found
            return value
        if session is not None:
            computed, _until = await self._compute(key, revisions, compute, size)
            return computed
        pending = self._loading.get((key, revisions))
        if pending is None:
            pending = asyncio.ensure_future(self._compute(key, revisions, compute, size))
            self._loading[(key, revisions)] = pending
            pending.add_done_callback(lambda _done: self._loading.pop((key, revisions), None))
        computed, until = await asyncio.shield(pending)
        lasts_until(until)
        return computed

    async def _compute(
        self,
        key: Hashable,
        revisions: tuple[int, ...],
        compute: Callable[[], Awaitable[V]],
        size: Callable[[V], int],
    ) -> tuple[V, datetime | None]:
        with computing() as deadline:
            value = await compute()
        if value is not None:
            self.put(key, revisions, value, size(value), deadline.moment)
        return value, deadline.moment

    def _stale(self) -> bool:
        return self._generation != self._read_generation or time.monotonic() - self._read_at > self.max_age

    async def _reread(self) -> None:
        # A read already under way may have begun before the change that made us stale: wait for it,
        # then read again unless it began after that change.
        known = self._generation
        while True:
            await asyncio.shield(self._reading_now())
            if self._read_generation >= known:
                return

    def _reading_now(self) -> "asyncio.Future[None]":
        """The shared read under way, started if there is none. One that has finished but whose done
        callback has not run yet (a caller that runs in the same turn of the loop sees one) counts as
        none: awaiting a finished future does not yield, and a caller waiting on it again and again
        would spin the event loop for good, as it did under load when a change landed during the read."""
        if self._reading is None or self._reading.done():
            self._reading = reading = asyncio.ensure_future(self._read())
            reading.add_done_callback(self._done_reading)
        return self._reading

    def _done_reading(self, done: "asyncio.Future[None]") -> None:
        if self._reading is done:  # not one started since, by a caller that found this one finished
            self._reading = None
        if not done.cancelled():
            done.exception()  # a reread nobody waited for failed: the next one past the bound raises it

    async def _read(self) -> None:
        generation, started = self._generation, time.monotonic()
        async with self.db.sessions() as session:
            self._revisions = await _read_revisions(session)
        self._read_at, self._read_generation = started, generation

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


async def _read_revisions(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(CacheRevision.topic, CacheRevision.revision))).all()
    return {topic: revision for topic, revision in rows}
