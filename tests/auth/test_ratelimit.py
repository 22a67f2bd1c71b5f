"""The login limit's keys and its counter store, as an attacker or an unlucky operator meets them."""

import asyncio
import uuid

import pytest

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from tests import services
from tests.conftest import client_for
from tests.factories import login


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_stalled_redis_answers_503_instead_of_hanging(settings: Settings) -> None:
    with services.private_redis() as redis:
        stalled = settings.model_copy(update={"redis_url": redis.url, "rate_limit_timeout_seconds": 0.5})
        runtime = Runtime.build(stalled, rate_limit_namespace=uuid.uuid4().hex)
        try:
            async with client_for(create_app(runtime=runtime)) as client:
                assert (await login(client, "acme", "x@example.com", "whatever")).status_code == 401
                redis.freeze()  # like a network black hole: connections stay open, nothing answers
                # The bound only keeps a hang from stalling the suite; the answer must come long before.
                answer = await asyncio.wait_for(login(client, "acme", "x@example.com", "whatever"), 30)
                assert (answer.status_code, answer.json()["error"]) == (503, "SERVICE_UNAVAILABLE")
                refresh = await asyncio.wait_for(
                    client.post(
                        "/api/auth/refresh", headers={"X-Tenant": "acme"}, json={"refreshToken": "x"}
                    ),
                    30,
                )
                assert refresh.status_code == 503
                redis.thaw()
                assert (await login(client, "acme", "x@example.com", "whatever")).status_code == 401
        finally:
            await runtime.close()


async def _login_codes(settings: Settings, peer: str, forwarded: list[str | None]) -> list[int]:
    runtime = Runtime.build(settings, rate_limit_namespace=uuid.uuid4().hex)
    body = {"email": "x@example.com", "password": "whatever"}
    try:
        async with client_for(create_app(runtime=runtime), peer) as client:
            codes = []
            for entry in forwarded:
                headers = {"X-Tenant": "acme"} | ({"X-Forwarded-For": entry} if entry else {})
                codes.append((await client.post("/api/auth/login", json=body, headers=headers)).status_code)
            return codes
    finally:
        await runtime.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ipv6_clients_of_one_64_share_one_budget(settings: Settings) -> None:
    # One host owns a whole /64 and can pick any address in it; each must not get a fresh budget.
    addresses = [f"2001:db8:1:2::{index:x}" for index in range(1, 31)]
    trusted = settings.model_copy(update={"trusted_proxies": ["10.0.0.1"]})
    codes = await _login_codes(trusted, "10.0.0.1", list[str | None](addresses))
    assert codes == [401] * 5 + [429] * 25
    # Another /64 has its own.
    assert await _login_codes(trusted, "10.0.0.1", ["2001:db8:1:3::1"]) == [401]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_ipv6_prefix_is_configurable(settings: Settings) -> None:
    wider = settings.model_copy(update={"trusted_proxies": ["10.0.0.1"], "rate_limit_ipv6_prefix": 48})
    addresses = [f"2001:db8:1:{index:x}::1" for index in range(1, 7)]
    assert await _login_codes(wider, "10.0.0.1", list[str | None](addresses)) == [401] * 5 + [429]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_forwarded_port_does_not_make_a_new_client(settings: Settings) -> None:
    trusted = settings.model_copy(update={"trusted_proxies": ["10.0.0.1"]})
    v4 = [f"203.0.113.7:{40000 + index}" for index in range(6)]
    assert await _login_codes(trusted, "10.0.0.1", list[str | None](v4)) == [401] * 5 + [429]
    v6 = [f"[2001:db8:5::1]:{40000 + index}" for index in range(3)] + ["2001:db8:5::1"] * 3
    assert await _login_codes(trusted, "10.0.0.1", list[str | None](v6)) == [401] * 5 + [429]
    # A proxy that appends its own address with a port is still recognised as the proxy.
    chained = [f"203.0.113.8, 10.0.0.1:{5000 + index}" for index in range(6)]
    assert await _login_codes(trusted, "10.0.0.1", list[str | None](chained)) == [401] * 5 + [429]
