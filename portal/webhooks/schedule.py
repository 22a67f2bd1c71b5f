"""When to try a delivery again."""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

_MINUTE = 60.0
_HOUR = 60 * _MINUTE

_jitter_rng = random.Random()


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """`delays[n]` is the wait before attempt n + 1, counted from the end of attempt n (the first attempt
    waits `delays[0]` after the event). `jitter` spreads each wait by up to that fraction either way, so
    deliveries that failed together do not all come back at the same second."""

    delays: Sequence[float]
    jitter: float = 0.1
    max_retry_after: float = 24 * _HOUR

    def __post_init__(self) -> None:
        if any(delay < 0 for delay in self.delays):
            raise ValueError("delays must not be negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        object.__setattr__(self, "delays", tuple(self.delays))

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    def next_delay(
        self,
        attempts_made: int,
        rng: random.Random | None = None,
        retry_after: float | None = None,
    ) -> timedelta | None:
        """The wait before the next attempt, or None when every attempt has been made.

        A receiver's `Retry-After` can lengthen the wait (up to `max_retry_after`) but never shorten it.
        """
        if attempts_made < 0:
            raise ValueError("attempts_made must not be negative")
        if attempts_made >= len(self.delays):
            return None
        base = self.delays[attempts_made]
        spread = (rng or _jitter_rng).uniform(-self.jitter, self.jitter)
        seconds = base * (1 + spread)
        if retry_after is not None and not math.isnan(retry_after):
            seconds = max(seconds, min(max(retry_after, 0.0), self.max_retry_after))
        return timedelta(seconds=seconds)


DEFAULT_SCHEDULE = RetrySchedule(
    delays=(
        0,
        5,
        5 * _MINUTE,
        30 * _MINUTE,
        2 * _HOUR,
        5 * _HOUR,
        10 * _HOUR,
        14 * _HOUR,
        20 * _HOUR,
        24 * _HOUR,
    ),
)


def next_attempt_delay(
    attempts_made: int,
    rng: random.Random | None = None,
    retry_after: float | None = None,
    *,
    schedule: RetrySchedule = DEFAULT_SCHEDULE,
) -> timedelta | None:
    return schedule.next_delay(attempts_made, rng, retry_after)
