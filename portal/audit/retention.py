"""The retention job: once a day, delete audit events older than `PORTAL_AUDIT_RETENTION_DAYS`.

It is the one thing that deletes from the log. It runs on the job queue like any other work: every
worker queues it when it starts (a waiting one is not queued twice), and each run queues the next a day
later, so one run a day happens however many workers there are.
"""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.actions import AuditAction
from portal.audit.service import AuditService, record_audit
from portal.auth.actor import Actor
from portal.jobs.queue import ClaimedJob, NewJob, enqueue
from portal.runtime import Runtime

AUDIT_RETENTION = "audit.retention"
RETENTION_INTERVAL = timedelta(days=1)
# The job acts as the portal's own operator, named so in the log.
RETENTION_ACTOR_NAME = "portal (audit retention)"


async def schedule_retention(runtime: Runtime) -> None:
    """Queues a run now unless one is already waiting."""
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob(kind=AUDIT_RETENTION, dedup_key=AUDIT_RETENTION)], runtime.clock())


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
