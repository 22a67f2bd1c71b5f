import random
from datetime import timedelta

import pytest

from portal.webhooks.schedule import DEFAULT_SCHEDULE, RetrySchedule, next_attempt_delay

NO_JITTER = RetrySchedule(DEFAULT_SCHEDULE.delays, jitter=0)


def test_default_schedule_is_the_documented_one() -> None:
    waits = [NO_JITTER.next_delay(n) for n in range(NO_JITTER.max_attempts)]
    assert waits == [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=14),
        timedelta(hours=20),
        timedelta(hours=24),
    ]
    assert DEFAULT_SCHEDULE.max_attempts == 10


def test_exhausted_after_the_last_attempt() -> None:
    assert next_attempt_delay(10) is None
    assert next_attempt_delay(11, retry_after=5) is None


def test_jitter_stays_within_ten_percent_and_varies() -> None:
    rng = random.Random(7)
    waits = {next_attempt_delay(2, rng) for _ in range(200)}
    assert all(timedelta(seconds=270) <= w <= timedelta(seconds=330) for w in waits if w is not None)
    assert len(waits) > 100
    assert next_attempt_delay(0, rng) == timedelta(0)


def test_same_seed_same_delays() -> None:
    assert next_attempt_delay(4, random.Random(1)) == next_attempt_delay(4, random.Random(1))


def test_retry_after_lengthens_but_never_shortens() -> None:
    assert NO_JITTER.next_delay(1, retry_after=120) == timedelta(seconds=120)
    assert NO_JITTER.next_delay(3, retry_after=10) == timedelta(minutes=30)
    assert NO_JITTER.next_delay(1, retry_after=10 * 86400) == timedelta(hours=24)
    assert NO_JITTER.next_delay(1, retry_after=-3) == timedelta(seconds=5)
    assert NO_JITTER.next_delay(1, retry_after=float("nan")) == timedelta(seconds=5)


def test_a_short_schedule_for_tests() -> None:
    quick = RetrySchedule(delays=(0, 0.01, 0.02), jitter=0)
    assert next_attempt_delay(1, schedule=quick) == timedelta(seconds=0.01)
    assert next_attempt_delay(3, schedule=quick) is None


@pytest.mark.parametrize("bad", [{"delays": (-1,)}, {"delays": (1,), "jitter": 1.5}])
def test_rejects_nonsense_schedules(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetrySchedule(**bad)  # type: ignore[arg-type]


def test_rejects_negative_attempt_counts() -> None:
    with pytest.raises(ValueError):
        next_attempt_delay(-1)
