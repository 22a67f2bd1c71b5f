"""What one process remembers lives on its `Runtime`: the verified-token cache judges expiry by the
runtime's clock, and two runtimes in one process share no caller or wake-up state."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.app import create_app
from portal.auth.tokens import AccessTokenCodec
from portal.errors import TokenExpired
from portal.kit.clock import Clock
from portal.runtime import Runtime
from tests.conftest import client_for, make_settings
from tests.factories import make_caller


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


async def test_two_apps_in_one_process_remember_their_own_callers(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, auth_cache_seconds=60, read_cache_seconds=60)
    first, second = (Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}") for _ in "12")
    try:
        async with (
            client_for(create_app(runtime=first)) as one,
            client_for(create_app(runtime=second)) as two,
        ):
            caller = await make_caller(first, one)
            assert (await one.get("/api/auth/me", headers=caller.headers)).status_code == 200
            # Disabled behind both apps' backs (no revision moves, nothing is announced): only what an
            # app remembers can still let the caller in.
            async with first.db.engine.begin() as connection:
                await connection.execute(
                    text("UPDATE users SET active = false WHERE id = :id"), {"id": caller.user.id}
                )

            assert (await one.get("/api/auth/me", headers=caller.headers)).status_code == 200
            assert (await two.get("/api/auth/me", headers=caller.headers)).status_code == 401
    finally:
        await first.close()
        await second.close()
