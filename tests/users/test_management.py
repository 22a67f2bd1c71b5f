"""Tenant admins manage their own users: invitations, activation, roles, disabling, the last admin."""

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import update

from portal.audit import AuditAction
from portal.kit.tenancy import across_tenants
from portal.runtime import Runtime
from portal.users.activation import UserActivation
from portal.users.models import Role
from tests.audit.probe import all_events
from tests.factories import Caller, login, make_caller, make_key_caller, make_user

URL = "/api/users"
ACTIVATE = "/api/auth/activate"
PASSWORD = "correct-horse-battery"


async def _invite(client: httpx.AsyncClient, admin: Caller, email: str, role: str = "user") -> httpx.Response:
    return await client.post(URL, headers=admin.headers, json={"email": email, "role": role})


async def _activate(
    client: httpx.AsyncClient, admin: Caller, token: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        ACTIVATE, headers={"X-Tenant": admin.tenant.slug}, json={"token": token, "password": password}
    )


async def test_an_admin_invites_a_user_who_activates_once_and_signs_in(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    invited = await _invite(client, admin, "New.Colleague@Example.com")
    assert invited.status_code == 201, invited.text
    body = invited.json()
    token = body["activationToken"]
    assert token.startswith("pta_") and len(token) == 47
    assert body["user"]["email"] == "new.colleague@example.com" and body["user"]["status"] == "invited"
    listed = (await client.get(URL, headers=admin.headers)).json()["items"]
    assert [(u["email"], u["status"]) for u in listed] == [
        (admin.user.email, "active"),
        ("new.colleague@example.com", "invited"),
    ]
    # no password yet: no way in, and the caller learns nothing more than from a wrong password
    refused = await login(client, admin.tenant.slug, "new.colleague@example.com", PASSWORD)
    assert (refused.status_code, refused.json()["error"]) == (401, "INVALID_CREDENTIALS")

    short = await _activate(client, admin, token, "too-short")
    assert short.status_code == 400
    assert (await _activate(client, admin, token)).status_code == 204  # the refused password spent nothing
    again = await _activate(client, admin, token, "another-long-password")
    assert (again.status_code, again.json()["error"]) == (401, "INVALID_ACTIVATION_TOKEN")
    signed_in = await login(client, admin.tenant.slug, "new.colleague@example.com", PASSWORD)
    assert signed_in.status_code == 200 and signed_in.json()["user"]["role"] == "user"
    assert (await client.get(URL, headers=admin.headers)).json()["items"][1]["status"] == "active"

    events = [e for e in await all_events(runtime) if e.target_id == body["user"]["id"]]
    assert [(e.action, e.actor_id) for e in events] == [
        ("user.created", admin.user.id),
        ("auth.login", None),  # the refused sign-in, anonymous
        ("auth.activate", body["user"]["id"]),
        ("auth.login", body["user"]["id"]),
    ]
    assert events[1].details["reason"] == "not_activated"


async def test_a_token_is_good_for_72_hours_in_its_own_tenant_and_a_new_invitation_replaces_it(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    other = await make_caller(runtime, client, Role.ADMIN)
    first = (await _invite(client, admin, "late@example.com")).json()["activationToken"]
    later = (await _invite(client, admin, "later@example.com")).json()
    expires_at = datetime.fromisoformat(later["activationExpiresAt"].replace("Z", "+00:00"))
    assert abs(expires_at - (runtime.clock() + timedelta(hours=72))) < timedelta(minutes=1)
    elsewhere = await _activate(client, other, first)
    assert elsewhere.status_code == 401
    again = await _invite(client, admin, "late@example.com", "viewer")
    assert again.status_code == 200 and again.json()["user"]["role"] == "viewer"
    assert (await _activate(client, admin, first)).status_code == 401
    assert (await _activate(client, admin, again.json()["activationToken"])).status_code == 204
    conflict = await _invite(client, admin, "late@example.com")
    assert (conflict.status_code, conflict.json()["error"]) == (409, "CONFLICT")

    async with runtime.db.transaction() as session:
        past = runtime.clock() - timedelta(seconds=1)
        await session.execute(across_tenants(update(UserActivation).values(expires_at=past)))
    assert (await _activate(client, admin, later["activationToken"])).status_code == 401
    for bad in ({"email": "not-an-email", "role": "user"}, {"email": "a@b.example", "role": "owner"}):
        assert (await client.post(URL, headers=admin.headers, json=bad)).status_code == 400


async def test_disabling_or_demoting_ends_sessions_and_suspends_keys(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    member = await make_key_caller(runtime, client, Role.USER, tenant=admin.tenant)
    tokens = (await login(client, admin.tenant.slug, member.user.email, member.password)).json()
    session_headers = {"X-Tenant": admin.tenant.slug, "Authorization": f"Bearer {tokens['accessToken']}"}

    demoted = await client.patch(f"{URL}/{member.user.id}", headers=admin.headers, json={"role": "viewer"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    refresh = await client.post(
        "/api/auth/refresh",
        headers={"X-Tenant": admin.tenant.slug},
        json={"refreshToken": tokens["refreshToken"]},
    )
    assert refresh.status_code == 401
    watch = {"cveId": "CVE-2024-0001"}
    assert (await client.post("/api/cve-watches", headers=member.headers, json=watch)).status_code == 403

    disabled = await client.patch(f"{URL}/{member.user.id}", headers=admin.headers, json={"active": False})
    assert disabled.json()["status"] == "disabled"
    assert (await client.get("/api/docker-images", headers=session_headers)).status_code == 401
    assert (await client.get("/api/docker-images", headers=member.headers)).status_code == 401
    enabled = await client.patch(f"{URL}/{member.user.id}", headers=admin.headers, json={"active": True})
    assert enabled.json()["status"] == "active"
    assert (await client.get("/api/docker-images", headers=member.headers)).status_code == 200
    unchanged = await client.patch(f"{URL}/{member.user.id}", headers=admin.headers, json={})
    assert unchanged.status_code == 200
    missing = await client.patch(f"{URL}/{uuid.uuid4()}", headers=admin.headers, json={"active": False})
    assert missing.status_code == 404

    updates = [e for e in await all_events(runtime) if e.action == AuditAction.USER_UPDATED]
    assert [e.details for e in updates] == [{"role": "viewer"}, {"active": False}, {"active": True}]


async def test_the_last_active_admin_cannot_be_demoted_or_disabled(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    for change in ({"role": "user"}, {"active": False}):
        refused = await client.patch(f"{URL}/{admin.user.id}", headers=admin.headers, json=change)
        assert (refused.status_code, refused.json()["error"]) == (409, "CONFLICT"), change
    # an invited admin who has not activated does not count
    await _invite(client, admin, "pending-admin@example.com", "admin")
    assert (
        await client.patch(f"{URL}/{admin.user.id}", headers=admin.headers, json={"role": "user"})
    ).status_code == 409
    await make_user(runtime, admin.tenant, Role.ADMIN)
    demoted = await client.patch(f"{URL}/{admin.user.id}", headers=admin.headers, json={"role": "user"})
    assert demoted.status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    first = await make_caller(runtime, client, Role.ADMIN)
    second = await make_caller(runtime, client, Role.ADMIN, tenant=first.tenant)
    answers = await asyncio.gather(
        client.patch(f"{URL}/{second.user.id}", headers=first.headers, json={"role": "viewer"}),
        client.patch(f"{URL}/{first.user.id}", headers=second.headers, json={"role": "viewer"}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    users = (
        await client.get(URL, headers=(first if answers[0].status_code == 200 else second).headers)
    ).json()
    assert [u["role"] for u in users["items"]].count("admin") == 1


async def test_only_admins_manage_users(runtime: Runtime, client: httpx.AsyncClient) -> None:
    user = await make_caller(runtime, client, Role.USER)
    assert (await client.get(URL, headers=user.headers)).status_code == 403
    assert (await _invite(client, user, "x@example.com")).status_code == 403
    assert (await client.patch(f"{URL}/{user.user.id}", headers=user.headers, json={})).status_code == 403
