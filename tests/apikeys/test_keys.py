"""API keys through the API: their lifecycle, what they may do, their rate limit, and the audit they leave."""

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, update

from portal.apikeys.models import ApiKey
from portal.apikeys.service import ApiKeyService
from portal.app import create_app
from portal.audit import AuditAction
from portal.auth.actor import Actor
from portal.config import Settings
from portal.errors import Forbidden
from portal.kit.clock import rfc3339
from portal.kit.tenancy import across_tenants
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests import services
from tests.audit.probe import all_events
from tests.conftest import client_for, make_settings
from tests.factories import OPERATOR, Caller, login, make_caller, make_key_caller, make_tenant
from tests.operator import operator_cli, run_async

URL = "/api/api-keys"


def _expiry(runtime: Runtime, days: float = 30) -> str:
    return rfc3339(runtime.clock() + timedelta(days=days))


def _bearer(caller: Caller, key: str) -> dict[str, str]:
    return {"X-Tenant": caller.tenant.slug, "Authorization": f"Bearer {key}"}


async def test_create_use_list_and_revoke_a_key(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    body = {"name": "ci-release", "role": "user", "expiresAt": _expiry(runtime)}
    created = await client.post(URL, headers=admin.headers, json=body)
    assert created.status_code == 201, created.text
    key = created.json()
    secret = key["key"]
    assert secret.startswith("ptk_") and len(secret) == 4 + 43 and key["prefix"] == secret[:12]
    assert (key["role"], key["name"], key["lastUsedAt"], key["revokedAt"]) == (
        "user",
        "ci-release",
        None,
        None,
    )
    assert key["createdBy"]["id"] == admin.user.id

    headers = _bearer(admin, secret)
    for _ in range(2):
        assert (await client.get("/api/docker-images", headers=headers)).status_code == 200
    me = (await client.get("/api/auth/me", headers=headers)).json()
    assert me["user"] == {"id": admin.user.id, "email": admin.user.email, "role": "user"}
    watched = await client.post(
        "/api/feature-requests",
        headers=headers,
        json={"type": "feature", "title": "Filed by CI", "description": "from a pipeline"},
    )
    assert watched.status_code == 201
    assert watched.json()["createdBy"] == {
        "type": "api_key",
        "id": key["id"],
        "name": "ci-release",
        "email": admin.user.email,
    }

    listed = (await client.get(URL, headers=admin.headers)).json()["items"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert "key" not in listed[0] and secret not in str(listed)
    assert listed[0]["lastUsedIp"] == "198.51.100.10" and listed[0]["lastUsedAt"] is not None

    assert (await client.delete(f"{URL}/{key['id']}", headers=admin.headers)).status_code == 204
    refused = await client.get("/api/docker-images", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "UNAUTHORIZED")
    assert (await client.delete(f"{URL}/{key['id']}", headers=admin.headers)).status_code == 204
    assert (await client.delete(f"{URL}/{uuid.uuid4()}", headers=admin.headers)).status_code == 404
    assert (await client.get(URL, headers=admin.headers)).json()["items"][0]["revokedAt"] is not None

    events = [e for e in await all_events(runtime) if e.action.startswith("api_key.")]
    assert [(e.action, e.actor_type, e.target_id) for e in events] == [
        ("api_key.created", "user", key["id"]),
        ("api_key.first_used", "api_key", key["id"]),
        ("api_key.revoked", "user", key["id"]),
    ]
    filed = next(e for e in await all_events(runtime) if e.action == AuditAction.FEATURE_REQUEST_FILED)
    assert (filed.actor_type, filed.actor_id, filed.actor_email) == ("api_key", key["id"], admin.user.email)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "role": "user"}, "expiresAt"),
        ({"name": "x", "role": "user", "expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "x", "role": "owner", "expiresAt": None}, "role"),
        ({"name": "", "role": "user", "expiresAt": None}, "name"),
    ],
)
async def test_a_key_needs_a_name_a_role_and_an_expiry_within_a_year(
    runtime: Runtime, client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    if body.get("expiresAt", "") is None:
        body["expiresAt"] = _expiry(runtime)
    response = await client.post(URL, headers=admin.headers, json=body)
    assert response.status_code == 400, response.text
    assert field in str(response.json()["details"])
    too_far = {"name": "x", "role": "user", "expiresAt": _expiry(runtime, 367)}
    response = await client.post(URL, headers=admin.headers, json=too_far)
    assert (response.status_code, response.json()["details"][0]["code"]) == (400, "too_big")
    ok = {"name": "x", "role": "user", "expiresAt": _expiry(runtime, 365)}
    assert (await client.post(URL, headers=admin.headers, json=ok)).status_code == 201


async def test_only_admins_manage_keys_and_never_above_their_own_role(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    user = await make_caller(runtime, client, Role.USER)
    body = {"name": "x", "role": "viewer", "expiresAt": _expiry(runtime)}
    assert (await client.post(URL, headers=user.headers, json=body)).status_code == 403
    assert (await client.get(URL, headers=user.headers)).status_code == 403
    actor = Actor.user(user.user.id, user.user.email, Role.USER, user.tenant.ref)
    async with runtime.db.transaction() as session:
        with pytest.raises(Forbidden):
            await ApiKeyService(session, runtime).create(
                actor, "x", Role.ADMIN, runtime.clock() + timedelta(days=1)
            )


async def test_a_viewer_key_reads_but_may_not_write(runtime: Runtime, client: httpx.AsyncClient) -> None:
    viewer = await make_key_caller(runtime, client, Role.VIEWER, owner_role=Role.ADMIN)
    assert (await client.get("/api/cve-watches", headers=viewer.headers)).status_code == 200
    denied = await client.post("/api/cve-watches", headers=viewer.headers, json={"cveId": "CVE-2024-0001"})
    assert (denied.status_code, denied.json()["error"]) == (403, "FORBIDDEN")
    event = next(e for e in await all_events(runtime) if e.action == AuditAction.ACCESS_DENIED)
    assert (event.actor_type, event.actor_id, event.outcome) == ("api_key", viewer.api_key_id, "denied")


async def test_a_key_is_refused_for_another_tenant_when_expired_unknown_or_malformed(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_key_caller(runtime, client, Role.USER)
    other = await make_tenant(runtime)
    mismatch = await client.get("/api/docker-images", headers={**caller.headers, "X-Tenant": other.slug})
    assert (mismatch.status_code, mismatch.json()["error"]) == (403, "TENANT_MISMATCH")
    for bad in ("ptk_" + "A" * 43, "ptk_short", "ptk_" + "!" * 43):
        response = await client.get("/api/docker-images", headers=_bearer(caller, bad))
        assert (response.status_code, response.json()["error"]) == (401, "UNAUTHORIZED")
    async with runtime.db.transaction() as session:
        past = runtime.clock() - timedelta(seconds=1)
        await session.execute(across_tenants(update(ApiKey).values(expires_at=past)))
    expired = await client.get("/api/docker-images", headers=caller.headers)
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


async def test_a_keys_authority_follows_its_creator(runtime: Runtime, client: httpx.AsyncClient) -> None:
    """Disabling the creator suspends its keys until it is enabled again; demoting it demotes them."""
    caller = await make_key_caller(runtime, client, Role.ADMIN)
    actor = OPERATOR.within(caller.tenant.ref)

    async def change(work: str) -> None:
        async with runtime.db.transaction() as session:
            users = UserService(session, runtime)
            if work == "disable":
                await users.set_active(actor, caller.user.email, False)
            elif work == "enable":
                await users.set_active(actor, caller.user.email, True)
            else:
                await users.set_role(actor, caller.user.email, Role.VIEWER)

    watch = {"cveId": "CVE-2024-0001"}
    await change("disable")
    suspended = await client.get("/api/docker-images", headers=caller.headers)
    assert suspended.status_code == 401 and "disabled" in suspended.json()["message"]
    await change("enable")
    assert (await client.post("/api/cve-watches", headers=caller.headers, json=watch)).status_code == 201
    await change("demote")
    assert (await client.post("/api/cve-watches", headers=caller.headers, json=watch)).status_code == 403
    assert (await client.get("/api/auth/me", headers=caller.headers)).json()["user"]["role"] == "viewer"


async def test_each_key_has_its_own_limit_and_never_touches_the_login_limit(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, api_key_rate_limit="3/minute", login_rate_limit="2/minute"
    )
    runtime = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            first = await make_key_caller(runtime, client, Role.USER)
            second = await make_key_caller(runtime, client, Role.USER, tenant=first.tenant)
            for _ in range(3):
                assert (await client.get("/api/docker-images", headers=first.headers)).status_code == 200
            limited = await client.get("/api/docker-images", headers=first.headers)
            assert (limited.status_code, limited.json()["error"]) == (429, "RATE_LIMITED")
            assert int(limited.headers["Retry-After"]) >= 1
            assert (await client.get("/api/docker-images", headers=second.headers)).status_code == 200
            # the same client IP still has its whole login budget
            for _ in range(2):
                ok = await login(client, first.tenant.slug, first.user.email, first.password)
                assert ok.status_code == 200
    finally:
        await runtime.close()


async def test_the_key_limit_is_shared_through_redis(tmp_path: Path, database_url: str) -> None:
    """Two API processes with one Redis count one key's requests together."""
    redis_url = services.redis_url()
    namespace = f"test-{uuid.uuid4().hex}"
    settings = make_settings(tmp_path, database_url, api_key_rate_limit="4/minute", redis_url=redis_url)
    runtimes = [Runtime.build(settings, rate_limit_namespace=namespace) for _ in range(2)]
    try:
        clients = [client_for(create_app(runtime=runtime)) for runtime in runtimes]
        caller = await make_key_caller(runtimes[0], clients[0], Role.USER)
        answers = []
        for index in range(6):
            response = await clients[index % 2].get("/api/docker-images", headers=caller.headers)
            answers.append(response.status_code)
        assert answers == [200, 200, 200, 200, 429, 429]
        for client in clients:
            await client.aclose()
    finally:
        for runtime in runtimes:
            await runtime.close()


async def test_a_revocation_reaches_another_process_within_the_cache_window(
    tmp_path: Path, database_url: str
) -> None:
    window = 0.3
    settings = make_settings(tmp_path, database_url, auth_cache_seconds=window)
    serving, revoking = (
        Runtime.build(settings, rate_limit_namespace=f"t-{uuid.uuid4().hex}") for _ in range(2)
    )
    try:
        async with (
            client_for(create_app(runtime=serving)) as api,
            client_for(create_app(runtime=revoking)) as other,
        ):
            admin = await make_caller(serving, api, Role.ADMIN)
            key = (
                await api.post(
                    URL,
                    headers=admin.headers,
                    json={"name": "ci", "role": "viewer", "expiresAt": _expiry(serving)},
                )
            ).json()
            headers = _bearer(admin, key["key"])
            assert (await api.get("/api/docker-images", headers=headers)).status_code == 200
            assert (await other.get("/api/docker-images", headers=headers)).status_code == 200
            # revoked through the other process: this one refuses it at once there, here within the window
            assert (await other.delete(f"{URL}/{key['id']}", headers=admin.headers)).status_code == 204
            assert (await other.get("/api/docker-images", headers=headers)).status_code == 401
            await asyncio.sleep(window + 0.1)
            assert (await api.get("/api/docker-images", headers=headers)).status_code == 401
    finally:
        await serving.close()
        await revoking.close()


async def test_the_operator_lists_and_revokes_a_tenants_keys(
    runtime: Runtime, client: httpx.AsyncClient, settings: Settings
) -> None:
    caller = await make_key_caller(runtime, client, Role.USER)
    cli = operator_cli(settings)
    listed = json.loads(await run_async(cli, "api-keys", "list", "--tenant", caller.tenant.slug, "--json"))
    (key,) = listed["items"]
    assert key["id"] == caller.api_key_id and key["prefix"] == caller.api_key[:12]
    assert caller.api_key not in json.dumps(listed)
    table = await run_async(cli, "api-keys", "list", "--tenant", caller.tenant.slug)
    assert key["prefix"] in table and "never" in table and "active" in table
    await run_async(cli, "api-keys", "revoke", key["id"], "--tenant", caller.tenant.slug)
    assert (await client.get("/api/docker-images", headers=caller.headers)).status_code == 401
    assert "No such API key" in await run_async(
        cli, "api-keys", "revoke", "ptk_nothing", "--tenant", caller.tenant.slug, ok=False
    )


async def test_a_made_up_key_is_refused_without_reading_the_database_again(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    made_up = _bearer(caller, "ptk_" + "B" * 43)
    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        first = await client.get("/api/docker-images", headers=made_up)
        read_first = len(statements)
        second = await client.get("/api/docker-images", headers=made_up)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    assert first.status_code == second.status_code == 401
    assert read_first >= 1 and len(statements) == read_first
