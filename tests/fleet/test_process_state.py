"""What one process remembers lives on its `Runtime`: the verified-token cache judges expiry by the
runtime's clock, and two runtimes in one process share no caller or wake-up state."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.tokens import AccessTokenCodec
from portal.errors import TokenExpired
from portal.kit.clock import Clock


class Hands:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_verified_token_expires_by_the_codecs_clock_not_the_wall_clock() -> None:
    clock = Hands()
    codec = AccessTokenCodec("k" * 64, "portal", "portal-api", 60, clock)
    token = codec.issue("user", "tenant", "viewer")

    assert codec.decode(token).user_id == "user"  # verified while the codec's clock says it is fresh
    clock.now += timedelta(seconds=59)
    assert codec.decode(token).user_id == "user"  # from the cache
    clock.now += timedelta(seconds=1)
    with pytest.raises(TokenExpired):
        codec.decode(token)


def test_a_token_is_expired_on_first_sight_by_the_codecs_clock() -> None:
    issuing: Clock = lambda: datetime.now(UTC)  # noqa: E731
    token = AccessTokenCodec("k" * 64, "portal", "portal-api", 60, issuing).issue("user", "tenant", "viewer")
    later = AccessTokenCodec(
        "k" * 64, "portal", "portal-api", 60, lambda: datetime.now(UTC) + timedelta(hours=1)
    )

    with pytest.raises(TokenExpired):
        later.decode(token)
