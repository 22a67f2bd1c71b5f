"""Running jobs: claim the due jobs of each kind, hand them to the kind's handler in a transaction that
also takes them off the queue, and put them back with a delay when the handler fails.

`portal worker` runs one beside the webhook delivery worker; `portal serve` runs one in-process
(`PORTAL_RUN_WORKER`). A commit in this process that queues jobs wakes it at once (`wakeup`); otherwise it
polls every `worker_poll_seconds`. Its three pieces are separate on purpose: `claim` (one leased claim),
`run_claimed` (the handler's transaction) and `run` (the loop that waits to be woken or for the poll).
"""

import asyncio
import math
import time
from collections.abc import Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.queue import ClaimedJob, RetryPolicy, claim_due_jobs, record_failure, take
from portal.logs import get_logger
from portal.runtime import Runtime

log = get_logger("portal.jobs")

ERROR_BACKOFF_SECONDS = 1.0


class JobHandler(Protocol):
    """Does a batch of one kind's jobs inside the caller's transaction, which commits the work and the
    jobs' removal together; raising rolls both back and the jobs are retried later."""

    batch_size: int

    async def __call__(self, session: AsyncSession, jobs: list[ClaimedJob]) -> None: ...


class JobWorker:
    def __init__(
        self, runtime: Runtime, handlers: Mapping[str, JobHandler], policy: RetryPolicy | None = None
    ) -> None:
        self.runtime = runtime
        self.handlers = dict(handlers)
        self.policy = policy or RetryPolicy()
        self.lease = timedelta(seconds=runtime.settings.job_lease_seconds)
        self.poll_seconds = runtime.settings.worker_poll_seconds
        self.running = False
        self.started = asyncio.Event()
        self._stopping = asyncio.Event()
        self._nudge = asyncio.Event()

    def stop(self) -> None:
        """Asks `run` to finish the batch in hand and return."""
        self._stopping.set()
        self._nudge.set()

    def wake(self) -> None:
        self._nudge.set()

    async def run(self) -> None:
        stop_listening = self.runtime.job_signal.listen(self.wake)
        self.running = True
        self.started.set()
        log.info("job_worker_started", kinds=sorted(self.handlers))
        try:
            while not self._stopping.is_set():
                self._nudge.clear()
                started = time.monotonic()
                try:
                    await self.run_due()
                except Exception:  # the database may be away for a moment; leases keep the work safe
                    log.exception("job_worker_step_failed")
                    await self._wait(ERROR_BACKOFF_SECONDS)
                    continue
                await self._wait(max(0.0, started + self.poll_seconds - time.monotonic()))
        finally:
            self.running = False
            stop_listening()
            log.info("job_worker_stopped")

    async def run_due(self) -> int:
        """Runs every job due now, kind by kind, until none is left; returns how many were claimed."""
        done = 0
        while not self._stopping.is_set():
            claimed_any = False
            for kind, handler in self.handlers.items():
                claimed = await self.claim(kind, handler.batch_size)
                if claimed:
                    claimed_any = True
                    done += len(claimed)
                    await self.run_claimed(handler, claimed)
            if not claimed_any:
                break
        return done

    async def claim(self, kind: str, limit: int) -> list[ClaimedJob]:
        async with self.runtime.db.transaction() as session:
            return await claim_due_jobs(session, self.runtime.clock(), self.lease, limit, [kind])

    async def run_claimed(self, handler: JobHandler, claimed: list[ClaimedJob]) -> None:
        started, kind = time.monotonic(), claimed[0].kind
        try:
            async with self.runtime.db.transaction() as session:
                mine = await take(session, claimed)
                if mine:
                    await handler(session, mine)
            self.runtime.metrics.jobs.labels(kind, "done").observe(time.monotonic() - started)
        except Exception as exc:  # a failing job costs an attempt, not the worker
            self.runtime.metrics.jobs.labels(kind, "failed").observe(time.monotonic() - started)
            log.exception("jobs_failed", kind=claimed[0].kind, jobs=len(claimed))
            error = f"{type(exc).__name__}: {exc}"
            async with self.runtime.db.transaction() as session:
                for job in claimed:
                    state = await record_failure(session, job, error, self.runtime.clock(), self.policy)
                    if state == "failed":
                        log.error("job_gave_up", job=job.id, kind=job.kind, attempts=job.attempts)

    async def _wait(self, seconds: float) -> None:
        if math.isinf(seconds):
            seconds = self.poll_seconds
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._nudge.wait()
