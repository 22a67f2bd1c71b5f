"""Users and API keys in the console, for admins: the same services as /api/users and /api/api-keys."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from portal.app import create_app
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_tenant
from tests.web.console import console_client, csrf_of, post_form, sign_in, signed_in_client


async def test_an_admin_invites_a_colleague_who_activates_and_signs_in(
    runtime: Runtime, app: FastAPI
) -> None:
    tenant = await make_tenant(runtime)
    async with signed_in_client(runtime, app, tenant, Role.ADMIN) as admin:
        invited = await post_form(
            admin, "/users", "/users", {"email": "New.Colleague@Example.com", "role": "user"}
        )
        assert invited.status_code == 200
        link = re.search(
            r'id="activation-link" class="mono" type="text" readonly value="([^"]+)"', invited.text
        )
        assert link is not None and link.group(1).startswith(
            f"http://{tenant.slug}.localhost/activate?token="
        )
        assert 'data-email="new.colleague@example.com"' in (await admin.get("/users")).text

        async with console_client(app, tenant.slug, client_ip="198.51.100.31") as colleague:
            path = link.group(1).removeprefix(f"http://{tenant.slug}.localhost")
            form = (await colleague.get(path)).text
            token = re.search(r'name="token" value="([^"]+)"', form)
            assert token is not None
            fields = {"csrf": csrf_of(form), "token": token.group(1)}
            differ = await colleague.post(
                "/activate", data={**fields, "password": "a" * 12, "password_again": "b" * 12}
            )
            assert differ.status_code == 400 and "differ" in differ.text
            short = await colleague.post(
                "/activate", data={**fields, "password": "short", "password_again": "short"}
            )
            assert short.status_code == 400
            password = "correct horse battery"
            done = await colleague.post(
                "/activate", data={**fields, "password": password, "password_again": password}
            )
            assert (done.status_code, done.headers["location"]) == (303, "/login?next=/")
            again = await colleague.post(
                "/activate", data={**fields, "password": password, "password_again": password}
            )
            assert again.status_code == 401 and "ask your admin" in again.text
            assert (await sign_in(colleague, "new.colleague@example.com", password)).status_code == 303
            assert (await colleague.get("/users")).status_code == 403

            users = (await admin.get("/users")).text
            row = re.search(
                r'data-email="new.colleague@example.com">.*?action="(/users/[0-9a-f-]+)"', users, re.S
            )
            assert row is not None
            disabled = await admin.post(row.group(1), data={"csrf": csrf_of(users), "role": "user"})
            assert disabled.status_code == 303
            assert (await colleague.get("/", follow_redirects=False)).status_code == 303  # signed out


async def test_the_last_admin_cannot_demote_itself(runtime: Runtime, app: FastAPI) -> None:
    tenant = await make_tenant(runtime)
    async with signed_in_client(runtime, app, tenant, Role.ADMIN) as admin:
        users = (await admin.get("/users")).text
        own = re.search(r'action="(/users/[0-9a-f-]+)"', users)
        assert own is not None
        refused = await admin.post(
            own.group(1), data={"csrf": csrf_of(users), "role": "viewer", "active": "on"}
        )
        assert refused.status_code == 400 and "admin" in refused.text
        assert (await admin.get("/users")).status_code == 200  # still an admin


async def test_an_api_key_is_shown_once_works_and_stops_when_revoked(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(runtime)
    async with signed_in_client(runtime, app, tenant, Role.ADMIN) as admin:
        too_far = (datetime.now(UTC) + timedelta(days=800)).date().isoformat()
        refused = await post_form(
            admin, "/api-keys", "/api-keys", {"name": "ci", "role": "viewer", "expires_on": too_far}
        )
        assert refused.status_code == 400
        expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        created = await post_form(
            admin, "/api-keys", "/api-keys", {"name": "ci-release", "role": "viewer", "expires_on": expires}
        )
        secret = re.search(r'id="secret" class="mono" type="text" readonly value="(ptk_[^"]+)"', created.text)
        assert secret is not None
        headers = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {secret.group(1)}"}
        assert (await client.get("/api/docker-images", headers=headers)).status_code == 200

        listing = (await admin.get("/api-keys")).text
        assert secret.group(1) not in listing and 'data-key="ci-release"' in listing
        revoke = re.search(r'action="(/api-keys/[0-9a-f-]+/revoke)"', listing)
        assert revoke is not None
        assert (await admin.post(revoke.group(1), data={"csrf": csrf_of(listing)})).status_code == 303
        assert (await client.get("/api/docker-images", headers=headers)).status_code == 401
    async with signed_in_client(runtime, app, tenant, Role.USER) as user:
        for path in ("/users", "/api-keys"):
            assert (await user.get(path)).status_code == 403


async def test_a_new_key_is_offered_to_expire_90_days_after_the_portals_today(runtime: Runtime) -> None:
    today = datetime.now(UTC) + timedelta(days=400)
    later = replace(runtime, clock=lambda: today)
    tenant = await make_tenant(later)
    async with signed_in_client(later, create_app(runtime=later), tenant, Role.ADMIN) as admin:
        page = (await admin.get("/api-keys")).text

    expires_on = re.search(r'id="expires_on" name="expires_on" type="date" required value="([^"]+)"', page)
    assert expires_on is not None and expires_on.group(1) == (today + timedelta(days=90)).date().isoformat()
