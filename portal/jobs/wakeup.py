"""Wakes this process's job workers the moment a transaction that queued jobs commits.

The signal belongs to the process's `Runtime` (its database sessions carry it in `Session.info`), so two
runtimes in one process never wake each other. Only a commit wakes: a rolled-back job was never there.
Workers in other processes do not hear it and find the work by polling.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

SIGNAL_KEY = "portal_jobs_signal"
_QUEUED = "portal_jobs_queued"


class JobSignal:
    def __init__(self) -> None:
        self._listeners: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` on the running loop after each commit that queued jobs; returns the function
        that stops listening."""
        key = id(callback)
        self._listeners[key] = (asyncio.get_running_loop(), callback)

        def stop() -> None:
            self._listeners.pop(key, None)

        return stop

    def notify(self) -> None:
        for loop, callback in list(self._listeners.values()):
            with suppress(RuntimeError):  # that loop is closed; its worker is gone
                loop.call_soon_threadsafe(callback)


def mark_queued(session: AsyncSession) -> None:
    session.sync_session.info[_QUEUED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        signal = session.info.get(SIGNAL_KEY)
        if isinstance(signal, JobSignal):
            signal.notify()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: object) -> None:
    session.info.pop(_QUEUED, None)
