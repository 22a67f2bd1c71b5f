"""Background work as leased job rows: queued in the transaction of the change that causes it, run by
`portal worker` or the in-process worker of `portal serve`."""

from portal.jobs.models import Job, JobState
from portal.jobs.queue import ClaimedJob, NewJob, RetryPolicy, enqueue

__all__ = ["ClaimedJob", "Job", "JobState", "NewJob", "RetryPolicy", "enqueue"]
