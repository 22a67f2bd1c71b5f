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
