"""Wakes waiting workers the moment a transaction that queued their kind of work commits.

A `CommitSignal` names a kind of work (a channel: queued jobs, webhook deliveries). A transaction marks
it (`mark`); when that transaction commits, every callback of this process listening on the signal runs
on its own loop, and on PostgreSQL the same transaction sends `NOTIFY <channel>`, which the database
delivers to other processes only once it commits (`portal.kit.notify` listens and calls `notify`
there). A rolled-back transaction wakes nobody: its work was never there.

The signals belong to a `Runtime`: its sessions carry them in `Session.info` (under `SIGNALS_KEY`), so two
runtimes in one process never wake each other. Polling stays the fallback everywhere.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

SIGNALS_KEY = "portal_signals"
# The kinds of work: queued jobs, and outbox events (or deliveries) for the webhook workers.
JOBS_CHANNEL = "portal_jobs"
OUTBOX_CHANNEL = "portal_outbox"
# Cached reads whose data changed (kit.readcache).
CACHE_CHANNEL = "portal_cache"
_MARKED = "portal_signals_marked"


class CommitSignal:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._listeners: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}
        self._subscribers: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Calls `callback` at once, in the thread that commits or hears, for every wake-up (for what
        only flips a flag, as the read cache does); `listen` is for workers waiting on a loop."""
        self._subscribers.append(callback)

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` on the running loop after each commit that marked this signal (here, or in
        another process on PostgreSQL); returns the function that stops listening."""
        key = id(callback)
        self._listeners[key] = (asyncio.get_running_loop(), callback)

        def stop() -> None:
            self._listeners.pop(key, None)

        return stop

    @property
    def heard(self) -> bool:
        return bool(self._listeners)

    def notify(self) -> None:
        for subscriber in self._subscribers:
            subscriber()
        for loop, callback in list(self._listeners.values()):
            with suppress(RuntimeError):  # that loop is closed; its worker is gone
                loop.call_soon_threadsafe(callback)


def signals_of(session: Session) -> dict[str, CommitSignal]:
    signals = session.info.get(SIGNALS_KEY)
    return signals if isinstance(signals, dict) else {}


def mark(session: AsyncSession | Session, channel: str) -> None:
    """This transaction queued work of `channel`'s kind: wake its workers when it commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_MARKED, set()).add(channel)


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    channels = session.info.get(_MARKED)
    if not channels:
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Sent inside the transaction: PostgreSQL delivers it on commit and drops it on rollback.
    for channel in sorted(channels):
        session.execute(select(func.pg_notify(channel, "")))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    channels = session.info.pop(_MARKED, None)
    if not channels:
        return
    signals = signals_of(session)
    for channel in channels:
        signal = signals.get(channel)
        if signal is not None:
            signal.notify()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: object) -> None:
    session.info.pop(_MARKED, None)
