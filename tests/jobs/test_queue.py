"""The job queue on both engines: dedup, leased claims, taking, retries, and the worker that runs them."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs import ClaimedJob, Job, JobState, NewJob, RetryPolicy, enqueue
from portal.jobs.queue import claim_due_jobs, record_failure, take
from portal.jobs.runner import JobWorker
from portal.runtime import Runtime

LEASE = timedelta(minutes=5)


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Recorder:
    """A handler that remembers what it ran and can be told to fail."""

    batch_size = 10

    def __init__(self) -> None:
        self.ran: list[list[str]] = []
        self.fail = False
        self.called = asyncio.Event()

    async def __call__(self, session: AsyncSession, jobs: list[ClaimedJob]) -> None:
        self.called.set()
        if self.fail:
            raise RuntimeError("the handler broke")
        self.ran.append([job.payload["n"] for job in jobs])


async def _jobs(runtime: Runtime) -> list[Job]:
    async with runtime.db.transaction() as session:
        return list((await session.execute(select(Job).order_by(Job.created_at, Job.id))).scalars())


async def test_a_waiting_job_is_not_queued_twice_but_asked_for_again(runtime: Runtime) -> None:
    clock = MovableClock()
    async with runtime.db.transaction() as session:
        assert await enqueue(session, [NewJob("test", {"n": "1"}, dedup_key="k")], clock()) == 1
    clock.advance(10)
    async with runtime.db.transaction() as session:
        assert await enqueue(session, [NewJob("test", {"n": "2"}, dedup_key="k")], clock()) == 0
    (job,) = await _jobs(runtime)
    assert job.payload == {"n": "1"} and job.requested_at == clock() and job.created_at < clock()

    async with runtime.db.transaction() as session:
        (claimed,) = await claim_due_jobs(session, clock(), LEASE, 10)
    # while it runs, the same work asked for again waits behind it
    async with runtime.db.transaction() as session:
        assert await enqueue(session, [NewJob("test", {"n": "3"}, dedup_key="k")], clock()) == 1
    states = sorted(job.state for job in await _jobs(runtime))
    assert states == [JobState.QUEUED, JobState.RUNNING]
    assert claimed.payload == {"n": "1"}


async def test_a_claim_is_leased_and_only_its_holder_takes_the_job(runtime: Runtime) -> None:
    clock = MovableClock()
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob("test", {"n": str(n)}) for n in range(3)], clock())
        await enqueue(session, [NewJob("later", {"n": "x"}, due_at=clock() + timedelta(hours=1))], clock())
    async with runtime.db.transaction() as session:
        first = await claim_due_jobs(session, clock(), LEASE, 2, ["test"])
    async with runtime.db.transaction() as session:
        second = await claim_due_jobs(session, clock(), LEASE, 10)
    assert len(first) == 2 and len(second) == 1  # the job due in an hour is not claimed
    assert {j.id for j in first}.isdisjoint({j.id for j in second})
    assert all(job.attempts == 1 for job in first + second)

    # both holders die; once their leases run out another worker claims the jobs again
    clock.advance(LEASE.total_seconds() + 1)
    async with runtime.db.transaction() as session:
        again = await claim_due_jobs(session, clock(), LEASE, 10, ["test"])
    assert {j.id for j in again} == {j.id for j in first + second}
    async with runtime.db.transaction() as session:
        assert await take(session, first) == []  # the lease is no longer the first holder's
        assert [j.id for j in await take(session, again)] == [j.id for j in again]
    assert [job.kind for job in await _jobs(runtime)] == ["later"]


async def test_a_failed_job_is_retried_later_then_given_up(runtime: Runtime) -> None:
    clock = MovableClock()
    policy = RetryPolicy(attempts=2, first=timedelta(seconds=30))
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob("test", {"n": "1"}, dedup_key="k")], clock())
    async with runtime.db.transaction() as session:
        (job,) = await claim_due_jobs(session, clock(), LEASE, 10)
        assert await record_failure(session, job, "boom", clock(), policy) == JobState.QUEUED
    async with runtime.db.transaction() as session:
        assert await claim_due_jobs(session, clock(), LEASE, 10) == []  # not due for 30 s
    clock.advance(31)
    async with runtime.db.transaction() as session:
        (job,) = await claim_due_jobs(session, clock(), LEASE, 10)
        assert job.attempts == 2
        assert await record_failure(session, job, "boom again", clock(), policy) == JobState.FAILED
    (stored,) = await _jobs(runtime)
    assert stored.state == JobState.FAILED and stored.last_error == "boom again" and stored.attempts == 2
    clock.advance(3600)
    async with runtime.db.transaction() as session:
        assert await claim_due_jobs(session, clock(), LEASE, 10) == []


async def test_the_worker_runs_due_jobs_and_retries_a_failing_handler(runtime: Runtime) -> None:
    clock = MovableClock()
    runtime = replace(runtime, clock=clock)
    recorder = Recorder()
    worker = JobWorker(runtime, {"test": recorder}, RetryPolicy(attempts=3, first=timedelta(seconds=5)))
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob("test", {"n": str(n)}) for n in range(12)], clock())

    recorder.fail = True
    assert await worker.run_due() == 12
    assert recorder.ran == [] and len(await _jobs(runtime)) == 12  # rolled back, to be retried in 5 s
    recorder.fail = False
    assert await worker.run_due() == 0
    clock.advance(5)
    assert await worker.run_due() == 12
    assert sorted(n for batch in recorder.ran for n in batch) == sorted(str(n) for n in range(12))
    assert [len(batch) for batch in recorder.ran] == [10, 2]
    assert await _jobs(runtime) == []


async def test_a_commit_that_queues_jobs_wakes_the_worker_of_its_process(runtime: Runtime) -> None:
    runtime.settings.worker_poll_seconds = 3600  # only the wake-up can make it run in time
    recorder = Recorder()
    worker = JobWorker(runtime, {"test": recorder})
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.started.wait(), timeout=10)
        async with runtime.db.transaction() as session:
            await enqueue(session, [NewJob("test", {"n": "1"})], runtime.clock())
        await asyncio.wait_for(recorder.called.wait(), timeout=10)
    finally:
        worker.stop()
        await task
    assert recorder.ran == [["1"]]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_claims_on_postgresql_never_share_a_job(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        await enqueue(session, [NewJob("test", {"n": str(n)}) for n in range(200)], runtime.clock())

    async def claim_all() -> list[str]:
        ids: list[str] = []
        while True:
            async with runtime.db.transaction() as session:
                claimed = await claim_due_jobs(session, runtime.clock(), LEASE, 7)
            if not claimed:
                return ids
            ids.extend(job.id for job in claimed)

    results = await asyncio.gather(*(claim_all() for _ in range(4)))
    every = [job_id for ids in results for job_id in ids]
    assert len(every) == 200 and len(set(every)) == 200
