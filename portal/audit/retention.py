"""The retention job: once a day, delete audit events older than `PORTAL_AUDIT_RETENTION_DAYS`.

It is the one thing that deletes from the log. It runs on the job queue like any other work: every
worker queues it when it starts (a waiting one is not queued twice), and each run queues the next a day
later, so one run a day happens however many workers there are.
"""

import asyncio
from contextlib import suppress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.actions import AuditAction
from portal.audit.service import AuditService, record_audit
from portal.auth.actor import Actor
from portal.jobs.queue import ClaimedJob, NewJob, enqueue
from portal.logs import get_logger
from portal.runtime import Runtime

log = get_logger("portal.audit")

AUDIT_RETENTION = "audit.retention"
RETENTION_INTERVAL = timedelta(days=1)
# The job acts as the portal's own operator, named so in the log.
RETENTION_ACTOR_NAME = "portal (audit retention)"


async def schedule_retention(runtime: Runtime) -> None:
    """Queues a run now unless one is already waiting."""
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob(kind=AUDIT_RETENTION, dedup_key=AUDIT_RETENTION)], runtime.clock())


async def keep_retention_scheduled(
    runtime: Runtime, stopping: asyncio.Event, retry_seconds: float = 5.0
) -> None:
    """Queues the retention job as soon as the database answers. A worker that starts while the database
    is away keeps delivering and running jobs meanwhile, as it does for any outage, instead of stopping."""
    while not stopping.is_set():
        try:
            await schedule_retention(runtime)
            return
        except Exception:  # the database may be away for a moment, like at any other step of a worker
            log.warning("audit_retention_not_scheduled_yet", retry_seconds=retry_seconds, exc_info=True)
            with suppress(TimeoutError):
                async with asyncio.timeout(retry_seconds):
                    await stopping.wait()


class AuditRetention:
    batch_size = 1

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, session: AsyncSession, jobs: list[ClaimedJob]) -> None:
        now = self.runtime.clock()
        days = self.runtime.settings.audit_retention_days
        deleted = await AuditService(session, self.runtime.clock).prune(now - timedelta(days=days))
        if deleted:
            record_audit(
                session,
                Actor.operator(RETENTION_ACTOR_NAME),
                AuditAction.AUDIT_PRUNED,
                details={"deleted": deleted, "retentionDays": days},
                clock=self.runtime.clock,
            )
        next_run = NewJob(kind=AUDIT_RETENTION, dedup_key=AUDIT_RETENTION, due_at=now + RETENTION_INTERVAL)
        await enqueue(session, [next_run], now)
