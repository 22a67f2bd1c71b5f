"""Hears other processes' commits on PostgreSQL: one connection that LISTENs on the channels of this
process's commit signals (`portal.kit.wakeup`) and wakes the signal a notification names.

A lost connection is opened again after a pause; on each (re)connection every signal fires once, since
notifications sent while nobody listened are gone. Polling stays the fallback, so a listener that
cannot connect costs latency, never work.
"""

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from portal.kit.wakeup import CommitSignal
from portal.logs import get_logger

log = get_logger("portal.notify")

RECONNECT_SECONDS = 1.0


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg's own `connect` takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class NotificationListener:
    def __init__(self, url: str, signals: Mapping[str, CommitSignal]) -> None:
        self.dsn = asyncpg_dsn(url)
        self.signals = dict(signals)
        self.listening = asyncio.Event()

    async def run(self, stopping: asyncio.Event) -> None:
        """Listens until `stopping` is set, connecting again whenever the connection is lost."""
        while not stopping.is_set():
            try:
                await self._listen_once(stopping)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                log.warning("notify_listener_lost", error=str(error) or type(error).__name__)
            self.listening.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), RECONNECT_SECONDS)

    async def _listen_once(self, stopping: asyncio.Event) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=10)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            for channel in self.signals:
                await connection.add_listener(channel, self._heard)
            self.listening.set()
            for signal in self.signals.values():
                signal.notify()
            waiters = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        finally:
            with suppress(Exception):  # closing a connection that is already gone
                await asyncio.wait_for(connection.close(), 5)

    def _heard(self, _connection: Any, _pid: int, channel: str, _payload: str) -> None:
        signal = self.signals.get(channel)
        if signal is not None:
            signal.notify()
