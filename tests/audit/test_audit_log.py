"""The audit log as tenants' admins and the operator read it, sign-in events, secrets kept out, retention."""

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from portal.audit import AuditAction, AuditOutcome, AuditTarget, record_audit
from portal.audit.retention import (
    AUDIT_RETENTION,
    AuditRetention,
    keep_retention_scheduled,
    schedule_retention,
)
from portal.audit.service import SecretInAuditEvent
from portal.auth.actor import Actor, Origin
from portal.config import Settings
from portal.jobs.queue import claim_due_jobs, take
from portal.runtime import Runtime
from portal.users.models import Role
from tests.audit.probe import all_events
from tests.catalog.factories import publish
from tests.conftest import make_settings
from tests.factories import OPERATOR, login, make_caller, make_tenant, make_user
from tests.operator import operator_cli, run_async

URL = "/api/audit-events"


async def test_admins_read_their_tenants_events_newest_first_filtered_and_paged(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    other = await make_caller(runtime, client, Role.ADMIN)
    await publish(runtime, "vendor-wide")  # the operator's, in no tenant
    watches = []
    for cve in ("CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"):
        created = await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": cve})
        watches.append(created.json()["id"])
    await client.post("/api/cve-watches", headers=other.headers, json={"cveId": "CVE-2024-0009"})

    first = (await client.get(URL, headers=admin.headers, params={"limit": 2})).json()
    second = (await client.get(URL, headers=admin.headers, params={"cursor": first["nextCursor"]})).json()
    events = first["items"] + second["items"]
    # the operator created the tenant and this admin, then the admin watched three CVEs
    assert [e["action"] for e in events] == ["cve_watch.created"] * 3 + ["user.created", "tenant.created"]
    assert [e["target"]["id"] for e in events[:3]] == watches[::-1]
    assert second["nextCursor"] is None
    watch_event = events[0]
    assert watch_event["actor"] == {
        "type": "user",
        "id": admin.user.id,
        "name": admin.user.email,
        "email": admin.user.email,
    }
    assert watch_event["target"] == {"type": "cve_watch", "id": watches[-1], "name": "CVE-2024-0003"}
    assert watch_event["outcome"] == "success" and watch_event["clientIp"] == "198.51.100.10"
    assert watch_event["requestId"] and watch_event["userAgent"]
    # the vendor's staff are `operator` to tenants
    assert events[-1]["actor"] == {"type": "operator", "id": None, "name": "operator", "email": None}

    async def ids(**params: str) -> list[str]:
        response = await client.get(URL, headers=admin.headers, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert len(await ids(action="user.created")) == 1
    assert len(await ids(actor=admin.user.id)) == 3
    assert len(await ids(actor=admin.user.email.upper())) == 3
    assert len(await ids(actor="operator")) == 2
    assert await ids(targetId=watches[0]) == [events[2]["id"]]
    assert await ids(since=watch_event["occurredAt"]) == [watch_event["id"]]
    assert await ids(until=events[-1]["occurredAt"]) == []
    bad = await client.get(URL, headers=admin.headers, params={"action": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "VALIDATION_ERROR"
    bad = await client.get(URL, headers=admin.headers, params={"since": "yesterday"})
    assert bad.status_code == 400


async def test_only_admins_read_the_log(runtime: Runtime, client: httpx.AsyncClient) -> None:
    user = await make_caller(runtime, client, Role.USER)
    for path in (URL, f"{URL}/export"):
        response = await client.get(path, headers=user.headers)
        assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")


async def test_export_streams_every_matching_event_as_ndjson(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    async with runtime.db.transaction() as session:
        for index in range(230):  # more than one page of the export's reads
            record_audit(
                session,
                OPERATOR.within(admin.tenant.ref),
                AuditAction.USER_UPDATED,
                AuditTarget("user", admin.user.id, admin.user.email),
                details={"index": index},
            )
    async with client.stream("GET", f"{URL}/export", headers=admin.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [line async for line in response.aiter_lines() if line]
    events = [json.loads(line) for line in lines]
    assert len(events) == 232  # and the tenant's and the admin's creation
    assert [e["details"].get("index") for e in events[:3]] == [229, 228, 227]
    filtered = await client.get(f"{URL}/export", headers=admin.headers, params={"action": "user.created"})
    assert [json.loads(line)["action"] for line in filtered.text.splitlines()] == ["user.created"]


async def test_sign_in_events_for_each_outcome_without_telling_the_caller_which(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(runtime)
    user, password = await make_user(runtime, tenant, Role.USER, email="known@example.com")
    disabled, disabled_password = await make_user(runtime, tenant, Role.USER, email="gone@example.com")
    async with runtime.db.transaction() as session:
        from portal.users.service import UserService

        await UserService(session, runtime).set_active(OPERATOR.within(tenant.ref), disabled.email, False)

    unknown = await login(client, tenant.slug, "nobody@example.com", password)
    wrong = await login(client, tenant.slug, user.email, "not-the-password")
    off = await login(client, tenant.slug, disabled.email, disabled_password)
    assert unknown.status_code == wrong.status_code == off.status_code == 401
    assert unknown.json() == wrong.json() == off.json()
    ok = await login(client, tenant.slug, user.email, password)
    assert ok.status_code == 200

    events = [e for e in await all_events(runtime) if e.action == AuditAction.LOGIN]
    assert [(e.outcome, e.details.get("reason"), e.target_id) for e in events] == [
        ("failure", "unknown_email", None),
        ("failure", "wrong_password", user.id),
        ("failure", "disabled", disabled.id),
        ("success", None, user.id),
    ]
    assert events[0].details["email"] == "nobody@example.com" and events[0].actor_type == "anonymous"
    assert all(e.tenant_id == tenant.id and e.client_ip == "198.51.100.10" for e in events)
    assert events[3].actor_id == user.id


async def test_a_reused_refresh_token_and_a_refused_write_are_recorded(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(runtime)
    user, password = await make_user(runtime, tenant, Role.VIEWER)
    tokens = (await login(client, tenant.slug, user.email, password)).json()
    body = {"refreshToken": tokens["refreshToken"]}
    assert (
        await client.post("/api/auth/refresh", headers={"X-Tenant": tenant.slug}, json=body)
    ).status_code == 200
    reused = await client.post("/api/auth/refresh", headers={"X-Tenant": tenant.slug}, json=body)
    assert reused.status_code == 401
    headers = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {tokens['accessToken']}"}
    denied = await client.post("/api/cve-watches", headers=headers, json={"cveId": "CVE-2024-0001"})
    assert denied.status_code == 403

    events = await all_events(runtime)
    reuse = next(e for e in events if e.action == AuditAction.REFRESH_REUSED)
    assert (reuse.outcome, reuse.actor_type, reuse.target_id) == ("failure", "anonymous", user.id)
    refused = next(e for e in events if e.action == AuditAction.ACCESS_DENIED)
    assert (refused.outcome, refused.actor_id) == ("denied", user.id)
    assert refused.details == {"method": "POST", "path": "/api/cve-watches", "requiredRole": "admin"}


async def test_no_password_token_or_secret_lands_in_any_event(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(runtime)
    user, password = await make_user(runtime, tenant, Role.ADMIN)
    await login(client, tenant.slug, user.email, "a-wrong-password-guess")
    tokens = (await login(client, tenant.slug, user.email, password)).json()
    refreshed = (
        await client.post(
            "/api/auth/refresh",
            headers={"X-Tenant": tenant.slug},
            json={"refreshToken": tokens["refreshToken"]},
        )
    ).json()
    headers = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {refreshed['accessToken']}"}
    hook_url = "https://hooks.example.com/services/T000/B000/very-secret-path"
    body = {"url": hook_url, "events": ["scan.completed"]}
    hook = (await client.post("/api/webhooks", headers=headers, json=body)).json()
    rotated = (await client.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=headers)).json()

    stored = json.dumps(
        [
            {column.key: str(getattr(e, column.key)) for column in e.__table__.columns}
            for e in await all_events(runtime)
        ]
    )
    secrets = [
        password,
        "a-wrong-password-guess",
        tokens["accessToken"],
        tokens["refreshToken"],
        refreshed["refreshToken"],
        hook["secret"],
        rotated["secret"],
        "very-secret-path",
    ]
    assert [secret for secret in secrets if secret in stored] == []
    export = await client.get(f"{URL}/export", headers=headers)
    assert [secret for secret in secrets if secret in export.text] == []


def test_record_audit_refuses_details_that_would_carry_a_secret() -> None:
    actor = Actor.operator("someone").at(Origin())

    class Session:
        def add(self, _event: object) -> None:
            raise AssertionError("nothing is added")

    for details in ({"password": "x"}, {"newSecret": "x"}, {"note": "ptk_abc"}, {"auth": "Bearer abc"}):
        with pytest.raises(SecretInAuditEvent):
            record_audit(Session(), actor, AuditAction.USER_UPDATED, details=details)  # type: ignore[arg-type]


async def test_the_operator_lists_every_tenant_and_its_own_vendor_wide_actions(
    runtime: Runtime, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": "CVE-2024-0001"})
    await publish(runtime, "vendor-wide")  # by tests.factories.OPERATOR
    cli = operator_cli(settings)

    everything = json.loads(await run_async(cli, "audit", "list", "--json"))["items"]
    assert [(e["action"], e["tenant"]) for e in everything] == [
        ("image.published", None),
        ("cve_watch.created", admin.tenant.slug),
        ("user.created", admin.tenant.slug),
        ("tenant.created", admin.tenant.slug),
    ]
    # the operator sees who ran the command
    assert everything[0]["actor"]["name"] == "test-operator"
    mine = json.loads(await run_async(cli, "audit", "list", "--tenant", admin.tenant.slug, "--json"))["items"]
    assert [e["action"] for e in mine] == ["cve_watch.created", "user.created", "tenant.created"]
    newest = json.loads(await run_async(cli, "audit", "list", "--limit", "2", "--json"))["items"]
    assert newest == everything[:2]
    recent = json.loads(await run_async(cli, "audit", "list", "--since", "1h", "--json"))["items"]
    assert len(recent) == 4
    assert json.loads(await run_async(cli, "audit", "list", "--since", "2999-01-01", "--json"))["items"] == []
    table = await run_async(cli, "audit", "list", "--action", "image.published")
    assert "operator:test-operator" in table and "image.published" in table
    assert "--since" in await run_async(cli, "audit", "list", "--since", "soon", ok=False)


async def test_retention_deletes_old_events_records_it_and_queues_the_next_run(
    runtime: Runtime, tmp_path: Path
) -> None:
    tenant = await make_tenant(runtime)
    now = runtime.clock()
    async with runtime.db.transaction() as session:
        for age_days in (500, 401, 399, 1):
            record_audit(
                session,
                OPERATOR.within(tenant.ref),
                AuditAction.USER_UPDATED,
                details={"age": age_days},
                clock=lambda age=age_days: now - timedelta(days=age),
            )
    await schedule_retention(runtime)  # as a worker does when it starts
    async with runtime.db.transaction() as session:
        claimed = await claim_due_jobs(session, runtime.clock(), timedelta(minutes=5), 10, [AUDIT_RETENTION])
    async with runtime.db.transaction() as session:
        await AuditRetention(runtime)(session, await take(session, claimed))

    events = await all_events(runtime)
    ages = sorted(e.details["age"] for e in events if "age" in e.details)
    assert ages == [1, 399]
    pruned = [e for e in events if e.action == AuditAction.AUDIT_PRUNED]
    assert [(e.details["deleted"], e.outcome, e.tenant_id) for e in pruned] == [
        (2, AuditOutcome.SUCCESS, None)
    ]
    async with runtime.db.transaction() as session:
        later = runtime.clock() + timedelta(days=1, minutes=1)
        assert (
            await claim_due_jobs(session, runtime.clock(), timedelta(minutes=5), 10, [AUDIT_RETENTION]) == []
        )
        assert len(await claim_due_jobs(session, later, timedelta(minutes=5), 10, [AUDIT_RETENTION])) == 1


def test_docs_list_every_action_with_its_description() -> None:
    from portal.audit.actions import DESCRIPTIONS
    from tests.shared_fixtures import REPO_ROOT

    rows = re.findall(r"^\| `([a-z_.]+)` \| (.+) \|$", (REPO_ROOT / "docs" / "access.md").read_text(), re.M)
    assert dict(rows) == {action.value: description for action, description in DESCRIPTIONS.items()}
    assert set(DESCRIPTIONS) == set(AuditAction)


async def test_a_worker_that_starts_while_the_database_is_away_schedules_retention_later(
    tmp_path: Path,
) -> None:
    """Scheduling the retention job must not stop a worker during a database outage; it retries."""
    unreachable = "postgresql+asyncpg://portal@127.0.0.1:9/portal"  # the discard port: nothing answers
    runtime = Runtime.build(make_settings(tmp_path, unreachable), rate_limit_namespace="unused")
    stopping = asyncio.Event()
    try:
        task = asyncio.create_task(keep_retention_scheduled(runtime, stopping, retry_seconds=0.05))
        await asyncio.sleep(0.3)
        assert not task.done()  # still trying, not failed
        stopping.set()
        await asyncio.wait_for(task, 5)
    finally:
        await runtime.close()
