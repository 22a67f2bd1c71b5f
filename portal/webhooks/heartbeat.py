"""Each worker process keeps a row fresh while it runs, so any API process can tell whether one does."""

import os
import socket
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.webhooks.models import WorkerHeartbeat

HEARTBEAT_SECONDS = 5.0
FRESH_FOR = timedelta(seconds=30)
# Rows left behind by killed workers are dropped when they are this old.
FORGET_AFTER = timedelta(days=1)

WorkerState = Literal["running", "stopped", "not_running"]


async def beat(session: AsyncSession, worker_id: str, started_at: datetime, now: datetime) -> None:
    refreshed = await session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.id == worker_id).values(seen_at=now)
    )
    if getattr(refreshed, "rowcount", 0) == 0:
        await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))
        await session.execute(
            insert(WorkerHeartbeat).values(
                id=worker_id,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                started_at=started_at,
                seen_at=now,
            )
        )


async def forget(session: AsyncSession, worker_id: str) -> None:
    await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == worker_id))


async def worker_state(session: AsyncSession, now: datetime) -> WorkerState:
    """`running` when some worker beat recently, `stopped` when the last one stopped beating without
    saying goodbye (killed), `not_running` when none is known."""
    newest = (await session.execute(select(func.max(WorkerHeartbeat.seen_at)))).scalar_one_or_none()
    if newest is None:
        return "not_running"
    if isinstance(newest, str):  # SQLite's max() loses the column type
        newest = datetime.fromisoformat(newest)
    newest = newest if newest.tzinfo is not None else newest.replace(tzinfo=now.tzinfo)
    return "running" if now - newest <= FRESH_FOR else "stopped"
