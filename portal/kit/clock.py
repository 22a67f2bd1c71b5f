"""The one source of "now", so tests can move time."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, microseconds dropped when zero."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
