"""Queuing jobs, claiming due ones under a lease, and settling them: the pattern of
`portal.webhooks.claims`, for any kind of work.

- `enqueue` adds jobs in the caller's transaction, so work caused by a change commits (or not) with it.
  A job with a `dedup_key` that is already waiting is not added twice; it is asked for again instead.
- `claim_due_jobs` is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`,
  committed before the work starts: on PostgreSQL claimers skip each other's rows; on SQLite the statement
  takes the write lock first, so claims run one at a time (a single claimer).
- `take` removes claimed jobs whose lease is still the caller's, in the transaction that does their work:
  the work and the job's end commit together, so work is done once even if a lease ran out meanwhile.
- `record_failure` puts a job back with a delay, or marks it failed after its last attempt.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db import upsert_for
from portal.jobs.models import Job, JobState
from portal.jobs.wakeup import mark_queued
from portal.kit.ids import new_id

_JOBS = cast(Table, Job.__table__)
_MAX_ERROR = 2000
# Bound parameters per statement stay well under SQLite's and asyncpg's limits.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    kind: str
    payload: dict[str, Any]
    dedup_key: str | None
    attempts: int
    requested_at: datetime
    lease_id: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays between attempts, doubling from `first` up to `longest`; `attempts` in all."""

    attempts: int = 5
    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(minutes=10)

    def next_delay(self, made: int) -> timedelta | None:
        if made >= self.attempts:
            return None
        return min(self.first * (1 << max(made - 1, 0)), self.longest)


async def enqueue(session: AsyncSession, jobs: Sequence[NewJob], now: datetime) -> int:
    """Adds the jobs; those whose key already waits are asked for again instead. Returns how many are new."""
    if not jobs:
        return 0
    rows = [
        {
            "id": new_id(),
            "kind": job.kind,
            "payload": job.payload,
            "dedup_key": job.dedup_key,
            "state": JobState.QUEUED.value,
            "due_at": job.due_at or now,
            "locked_until": None,
            "lease_id": None,
            "attempts": 0,
            "last_error": None,
            "requested_at": now,
            "created_at": now,
        }
        for job in jobs
    ]
    connection = await session.connection()
    upsert = upsert_for(connection.dialect.name)
    added = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        insert = upsert(_JOBS)
        statement = insert.on_conflict_do_update(
            index_elements=[_JOBS.c.dedup_key],
            index_where=text("state = 'queued'"),
            set_={"requested_at": insert.excluded.requested_at},
        ).returning(_JOBS.c.id)
        returned = set((await session.execute(statement, chunk)).scalars())
        added += sum(1 for row in chunk if row["id"] in returned)
    mark_queued(session)
    return added


def _free(now: datetime) -> Any:
    # A running job whose lease ran out belongs to a worker that died: anyone may claim it again.
    return or_(
        Job.state == JobState.QUEUED.value,
        and_(Job.state == JobState.RUNNING.value, Job.locked_until <= now),
    )


async def claim_due_jobs(
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str] | None = None,
) -> list[ClaimedJob]:
    lease_id = new_id()
    due = select(Job.id).where(_free(now), Job.due_at <= now)
    if kinds is not None:
        due = due.where(Job.kind.in_(list(kinds)))
    due = due.order_by(Job.due_at, Job.id).limit(limit).with_for_update(skip_locked=True)
    # A CTE, not `IN (subquery)`: PostgreSQL may run a LIMIT subquery inside an UPDATE more than once and
    # so claim more rows than asked; a materialized CTE runs once.
    chosen = due.cte("due_jobs")
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        chosen = chosen.prefix_with("MATERIALIZED")
    claim = (
        update(Job)
        .where(Job.id.in_(select(chosen.c.id)), _free(now))
        .values(
            state=JobState.RUNNING.value,
            locked_until=now + lease,
            lease_id=lease_id,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.dedup_key, Job.attempts, Job.requested_at)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(claim)).all()
    claimed = [
        ClaimedJob(
            id=row.id,
            kind=row.kind,
            payload=row.payload,
            dedup_key=row.dedup_key,
            attempts=row.attempts,
            requested_at=row.requested_at,
            lease_id=lease_id,
        )
        for row in rows
    ]
    claimed.sort(key=lambda job: (job.requested_at, job.id))
    return claimed


async def take(session: AsyncSession, jobs: Sequence[ClaimedJob]) -> list[ClaimedJob]:
    """Removes the jobs still leased to the caller and returns them: the ones whose work is the caller's
    to do, in this transaction. A job another worker reclaimed after the lease ran out is left to it."""
    mine: set[str] = set()
    by_lease: dict[str, list[str]] = {}
    for job in jobs:
        by_lease.setdefault(job.lease_id, []).append(job.id)
    for lease_id, ids in by_lease.items():
        for start in range(0, len(ids), _CHUNK):
            statement = (
                delete(Job)
                .where(Job.id.in_(ids[start : start + _CHUNK]), Job.lease_id == lease_id)
                .returning(Job.id)
                .execution_options(synchronize_session=False)
            )
            mine.update((await session.execute(statement)).scalars())
    return [job for job in jobs if job.id in mine]


_RETRY = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("b_id"), _JOBS.c.lease_id == bindparam("b_lease"))
    .values(
        state=bindparam("b_state"),
        due_at=bindparam("b_due"),
        locked_until=None,
        lease_id=None,
        last_error=bindparam("b_error"),
    )
)


async def record_failure(
    session: AsyncSession, job: ClaimedJob, error: str, now: datetime, policy: RetryPolicy
) -> JobState:
    """Puts the job back after a delay, or marks it failed when it has no attempt left. A job of the same
    key already waiting makes this one redundant: it is dropped instead of retried."""
    delay = policy.next_delay(job.attempts)
    state = JobState.FAILED if delay is None else JobState.QUEUED
    if state is JobState.QUEUED and job.dedup_key is not None:
        waiting = select(Job.id).where(Job.dedup_key == job.dedup_key, Job.state == JobState.QUEUED.value)
        if (await session.execute(waiting)).first() is not None:
            await session.execute(delete(Job).where(Job.id == job.id, Job.lease_id == job.lease_id))
            return state
    await session.execute(
        _RETRY,
        {
            "b_id": job.id,
            "b_lease": job.lease_id,
            "b_state": state.value,
            "b_due": now + delay if delay is not None else now,
            "b_error": error[:_MAX_ERROR],
        },
    )
    return state


async def queue_depth(session: AsyncSession) -> dict[str, int]:
    """state -> how many jobs are in it."""
    statement = select(Job.state, func.count(Job.id)).group_by(Job.state)
    return {state: int(count) for state, count in await session.execute(statement)}


async def queue_backlog(session: AsyncSession) -> dict[str, tuple[int, datetime | None]]:
    """Kind -> (queued jobs, the earliest due time among them), for the metrics."""
    statement = (
        select(Job.kind, func.count(Job.id), func.min(Job.due_at))
        .where(Job.state == JobState.QUEUED.value)
        .group_by(Job.kind)
    )
    return {kind: (int(count), due) for kind, count, due in await session.execute(statement)}
