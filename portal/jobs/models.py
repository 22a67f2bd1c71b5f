"""Background work as rows: one job is one unit of work of some kind, leased to one worker at a time."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument
from portal.kit.ids import new_id


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    # Out of attempts: kept, with its last error, for the operator to see.
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_due_at", "state", "due_at"),
        # At most one job waiting per key (a version's rescan, say): queuing it again is a no-op. A job
        # already running does not count, so work that arrives while it runs is queued behind it.
        Index(
            "uq_jobs_queued_dedup_key",
            "dedup_key",
            unique=True,
            sqlite_where=text("state = 'queued'"),
            postgresql_where=text("state = 'queued'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    lease_id: Mapped[str | None] = mapped_column(String(36))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the work was last asked for (queuing a waiting job again moves it): a handler can tell work
    # done since then from work done before.
    requested_at: Mapped[datetime]
    created_at: Mapped[datetime]
