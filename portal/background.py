"""The background workers a process runs: webhook delivery and the job queue with every kind of job.

`portal worker` runs them alone; `portal serve` runs them in-process unless `PORTAL_RUN_WORKER=false`.
Each feature that queues work names its kind and handler in `job_handlers`.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from portal.audit.retention import AUDIT_RETENTION, AuditRetention, keep_retention_scheduled
from portal.jobs.runner import JobHandler, JobWorker
from portal.runtime import Runtime
from portal.scanning.jobs import SCAN_VERSION
from portal.scanning.tasks import ScanJobs
from portal.webhooks.worker import DeliveryWorker


def job_handlers(runtime: Runtime) -> Mapping[str, JobHandler]:
    return {SCAN_VERSION: ScanJobs(runtime), AUDIT_RETENTION: AuditRetention(runtime)}


@dataclass
class BackgroundWorkers:
    delivery: DeliveryWorker
    jobs: JobWorker
    runtime: Runtime
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def build(cls, runtime: Runtime) -> "BackgroundWorkers":
        return cls(
            delivery=DeliveryWorker(runtime), jobs=JobWorker(runtime, job_handlers(runtime)), runtime=runtime
        )

    async def run(self) -> None:
        """Runs both until `stop`; one that fails does not leave the other running alone."""
        tasks = [
            asyncio.create_task(self.delivery.run(), name="webhook-worker"),
            asyncio.create_task(self.jobs.run(), name="job-worker"),
            asyncio.create_task(
                keep_retention_scheduled(self.runtime, self.stopping), name="audit-retention"
            ),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            self.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        self.stopping.set()
        self.delivery.stop()
        self.jobs.stop()
