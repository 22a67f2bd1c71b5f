"""A revoked key, a disabled or demoted user is refused by every process, not only the one that made the
change: on PostgreSQL as soon as the NOTIFY arrives (the cache windows here are an hour, so nothing else
could explain it), elsewhere within the read cache's bound."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.kit.clock import rfc3339
from portal.runtime import Runtime
from portal.users.models import Role
from tests.conftest import client_for, make_settings
from tests.factories import Caller, make_caller

HOUR = 3600.0
# How long a notification may take to arrive on a machine shared with other test suites.
NOTIFIED_WITHIN = 0.5
READS = "/api/docker-images"


@asynccontextmanager
async def _two_processes(
    tmp_path: Path, database_url: str, read_cache_seconds: float
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, httpx.AsyncClient]]:
    """The API of a serving runtime (listening, as `portal serve` does) and of another that writes, on one
    database; identities are kept an hour unless something says they changed."""
    settings = make_settings(
        tmp_path, database_url, auth_cache_seconds=HOUR, read_cache_seconds=read_cache_seconds
    )
    serving, writing = (
        Runtime.build(settings, rate_limit_namespace=f"t-{uuid.uuid4().hex}") for _ in range(2)
    )
    try:
        await serving.start()
        if serving.listener is not None:
            await asyncio.wait_for(serving.listener.listening.wait(), 10)
        async with (
            client_for(create_app(runtime=serving)) as api,
            client_for(create_app(runtime=writing)) as other,
        ):
            yield serving, api, other
    finally:
        await serving.close()
        await writing.close()


async def _refused_within(
    seconds: float, request: Callable[[], Awaitable[httpx.Response]], status: int
) -> None:
    deadline = time.monotonic() + seconds
    while (response := await request()).status_code != status:
        assert response.status_code == 200, response.text
        assert time.monotonic() < deadline, f"still served {seconds} s after the change"
        await asyncio.sleep(0.01)


def _bearer(caller: Caller, secret: str) -> dict[str, str]:
    return {"X-Tenant": caller.tenant.slug, "Authorization": f"Bearer {secret}"}


async def _new_key(runtime: Runtime, client: httpx.AsyncClient, admin: Caller) -> dict[str, str]:
    expires_at = rfc3339(runtime.clock() + timedelta(days=30))
    created = await client.post(
        "/api/api-keys", headers=admin.headers, json={"name": "ci", "role": "user", "expiresAt": expires_at}
    )
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    return body


async def test_on_postgresql_a_revoke_or_disable_is_refused_everywhere_once_notified(
    tmp_path: Path, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no notifications: the bound applies")
    async with _two_processes(tmp_path, database_url, read_cache_seconds=HOUR) as (runtime, api, other):
        admin = await make_caller(runtime, api, Role.ADMIN)
        key = await _new_key(runtime, api, admin)
        with_key = _bearer(admin, key["key"])
        member = await make_caller(runtime, api, Role.USER, admin.tenant)
        demoted = await make_caller(runtime, api, Role.USER, admin.tenant)
        watch = {"cveId": "CVE-2024-0001"}
        for headers in (with_key, member.headers, demoted.headers):
            assert (await api.get(READS, headers=headers)).status_code == 200  # remembered, here and there
            assert (await other.get(READS, headers=headers)).status_code == 200

        assert (await other.delete(f"/api/api-keys/{key['id']}", headers=admin.headers)).status_code == 204
        await _refused_within(NOTIFIED_WITHIN, lambda: api.get(READS, headers=with_key), 401)

        disabled = await other.patch(
            f"/api/users/{member.user.id}", headers=admin.headers, json={"active": False}
        )
        assert disabled.status_code == 200, disabled.text
        await _refused_within(NOTIFIED_WITHIN, lambda: api.get(READS, headers=member.headers), 401)

        made_viewer = await other.patch(
            f"/api/users/{demoted.user.id}", headers=admin.headers, json={"role": "viewer"}
        )
        assert made_viewer.status_code == 200, made_viewer.text
        await _refused_within(
            NOTIFIED_WITHIN, lambda: api.post("/api/cve-watches", headers=demoted.headers, json=watch), 403
        )


async def test_without_a_notification_the_read_cache_bound_applies(tmp_path: Path, database_url: str) -> None:
    """On SQLite (and on PostgreSQL with its listener down) a change elsewhere is seen when the revisions
    are next reread, well before the identities' own hour."""
    bound = 0.3
    async with _two_processes(tmp_path, database_url, read_cache_seconds=bound) as (runtime, api, other):
        admin = await make_caller(runtime, api, Role.ADMIN)
        key = await _new_key(runtime, api, admin)
        with_key = _bearer(admin, key["key"])
        assert (await api.get(READS, headers=with_key)).status_code == 200

        assert (await other.delete(f"/api/api-keys/{key['id']}", headers=admin.headers)).status_code == 204
        await _refused_within(bound + 0.5, lambda: api.get(READS, headers=with_key), 401)
