"""Wakes an in-process worker the moment a transaction that queued webhook work commits.

Any feature's `record_event` is noticed on flush; the webhooks service also asks explicitly (a redelivery
writes no event). Only the commit wakes the worker: a rolled-back event was never there. Workers in other
processes do not hear this and find the work by polling instead.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from portal.events.models import OutboxEvent

_PENDING = "portal_webhooks_wake"

_listeners: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[], None]]] = {}


def listen(callback: Callable[[], None]) -> Callable[[], None]:
    """Calls `callback` on the running loop after each commit that queued webhook work; returns the
    function that stops listening."""
    key = id(callback)
    _listeners[key] = (asyncio.get_running_loop(), callback)

    def stop() -> None:
        _listeners.pop(key, None)

    return stop


def request_delivery(session: AsyncSession) -> None:
    session.sync_session.info[_PENDING] = True


def _notify() -> None:
    for loop, callback in list(_listeners.values()):
        with suppress(RuntimeError):  # that loop is closed; its worker is gone
            loop.call_soon_threadsafe(callback)


@event.listens_for(Session, "after_flush")
def _saw_outbox_event(session: Session, _flush: UOWTransaction) -> None:
    if _listeners and any(isinstance(row, OutboxEvent) for row in session.new):
        session.info[_PENDING] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        _notify()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: object) -> None:
    session.info.pop(_PENDING, None)
