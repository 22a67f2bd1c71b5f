"""Password checks are bounded per process: beyond the bound a login is refused at once, not queued."""

import uuid

import httpx
import pytest

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from tests.conftest import client_for
from tests.factories import login, make_tenant, make_user


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_login_beyond_the_concurrent_password_checks_answers_503_at_once(settings: Settings) -> None:
    bounded = settings.model_copy(update={"password_check_concurrency": 1})
    runtime = Runtime.build(bounded, rate_limit_namespace=uuid.uuid4().hex)
    try:
        tenant = await make_tenant(runtime, "acme")
        user, password = await make_user(runtime, tenant)
        async with client_for(create_app(runtime=runtime)) as client:
            with runtime.hasher.checking():  # another login's check is in progress
                busy = await login(client, "acme", user.email, password)
                unknown = await login(client, "acme", "nobody@example.com", password)
            for answer in (busy, unknown):
                assert (answer.status_code, answer.json()["error"]) == (503, "SERVICE_UNAVAILABLE")
                assert answer.headers["retry-after"] == "1"
            assert (await login(client, "acme", user.email, password)).status_code == 200
    finally:
        await runtime.close()


async def test_the_bound_is_documented_on_login(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    responses = document["paths"]["/api/auth/login"]["post"]["responses"]
    assert "Retry-After" in responses["503"]["headers"]
