"""Wakes job workers the moment a transaction that queued jobs commits (see `portal.kit.wakeup`): this
process's at once, other processes' through PostgreSQL's NOTIFY; polling stays the fallback."""

from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.wakeup import JOBS_CHANNEL, mark


def mark_queued(session: AsyncSession) -> None:
    mark(session, JOBS_CHANNEL)
