from datetime import timedelta

import httpx

from portal.app import create_app
from portal.config import Settings
from portal.kit.clock import utcnow
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests.conftest import client_for
from tests.factories import OPERATOR, login, make_tenant, make_user


async def _logged_in(runtime: Runtime, client: httpx.AsyncClient) -> tuple[str, str, dict[str, str]]:
    tenant = await make_tenant(runtime, "acme")
    user, password = await make_user(runtime, tenant, Role.USER, "alice@acme.example")
    body = (await login(client, "acme", user.email, password)).json()
    return body["accessToken"], body["refreshToken"], {"X-Tenant": "acme"}


async def _refresh(client: httpx.AsyncClient, token: str, tenant: str = "acme") -> httpx.Response:
    return await client.post("/api/auth/refresh", headers={"X-Tenant": tenant}, json={"refreshToken": token})


async def test_refresh_rotates_the_token(runtime: Runtime, client: httpx.AsyncClient) -> None:
    _, first, _ = await _logged_in(runtime, client)

    response = await _refresh(client, first)

    assert response.status_code == 200
    body = response.json()
    assert body["refreshToken"] != first
    assert body["user"]["email"] == "alice@acme.example"
    assert (await _refresh(client, body["refreshToken"])).status_code == 200


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    _, first, _ = await _logged_in(runtime, client)
    second = (await _refresh(client, first)).json()["refreshToken"]

    reuse = await _refresh(client, first)

    assert reuse.status_code == 401
    assert reuse.json()["error"] == "INVALID_REFRESH_TOKEN"
    # The thief's replay also ends the legitimate holder's session.
    assert (await _refresh(client, second)).json()["error"] == "INVALID_REFRESH_TOKEN"


async def test_reuse_grace_lets_two_tabs_refresh_at_once(settings: Settings) -> None:
    runtime = Runtime.build(
        settings.model_copy(update={"refresh_reuse_grace_seconds": 30}), rate_limit_namespace="g"
    )
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            _, first, _ = await _logged_in(runtime, client)
            tab_one = await _refresh(client, first)
            tab_two = await _refresh(client, first)
            assert (tab_one.status_code, tab_two.status_code) == (200, 200)
            assert (await _refresh(client, tab_one.json()["refreshToken"])).status_code == 200
    finally:
        await runtime.close()


async def test_logout_ends_the_session(runtime: Runtime, client: httpx.AsyncClient) -> None:
    _, token, headers = await _logged_in(runtime, client)

    response = await client.post("/api/auth/logout", headers=headers, json={"refreshToken": token})

    assert response.status_code == 204
    assert (await _refresh(client, token)).json()["error"] == "INVALID_REFRESH_TOKEN"
    again = await client.post("/api/auth/logout", headers=headers, json={"refreshToken": token})
    assert again.status_code == 204


async def test_refresh_token_is_bound_to_its_tenant(runtime: Runtime, client: httpx.AsyncClient) -> None:
    _, token, _ = await _logged_in(runtime, client)
    await make_tenant(runtime, "other")

    assert (await _refresh(client, token, tenant="other")).json()["error"] == "INVALID_REFRESH_TOKEN"
    assert (await _refresh(client, "made-up-token")).status_code == 401


async def test_refresh_token_expires_after_idle_and_absolute_limits(settings: Settings) -> None:
    now = [utcnow()]
    runtime = Runtime.build(settings, clock=lambda: now[0], rate_limit_namespace="clock")
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            _, token, _ = await _logged_in(runtime, client)
            now[0] += timedelta(days=6)
            token = (await _refresh(client, token)).json()["refreshToken"]  # six idle days: still fine
            now[0] += timedelta(days=7, seconds=1)
            assert (await _refresh(client, token)).json()["error"] == "INVALID_REFRESH_TOKEN"

            _, token, _ = await _logged_in_again(runtime, client)
            for _ in range(5):  # used every six days, it still dies at thirty
                now[0] += timedelta(days=6)
                response = await _refresh(client, token)
                if response.status_code != 200:
                    break
                token = response.json()["refreshToken"]
            assert response.status_code == 401
    finally:
        await runtime.close()


async def _logged_in_again(runtime: Runtime, client: httpx.AsyncClient) -> tuple[str, str, dict[str, str]]:
    body = (await login(client, "acme", "alice@acme.example", await _password(runtime))).json()
    return body["accessToken"], body["refreshToken"], {"X-Tenant": "acme"}


async def _password(runtime: Runtime) -> str:
    async with runtime.db.transaction() as session:
        from portal.tenants.service import TenantService

        tenant = await TenantService(session).get("acme")
        await UserService(session, runtime).set_password(
            OPERATOR.within(tenant.ref), "alice@acme.example", "a-new-password-123"
        )
    return "a-new-password-123"


async def test_disabling_role_change_and_new_password_revoke_refresh_tokens(runtime: Runtime) -> None:
    tenant = await make_tenant(runtime, "acme")
    user, password = await make_user(runtime, tenant, Role.USER, "alice@acme.example")
    new_password = "another-password-42"
    in_tenant = OPERATOR.within(tenant.ref)
    changes = [
        (password, lambda users: users.set_role(in_tenant, user.email, Role.VIEWER)),
        (password, lambda users: users.set_password(in_tenant, user.email, new_password)),
        (new_password, lambda users: users.set_active(in_tenant, user.email, False)),
    ]
    for index, (current_password, change) in enumerate(changes):
        async with client_for(create_app(runtime=runtime), f"198.51.100.{index + 1}") as client:
            token = (await login(client, "acme", user.email, current_password)).json()["refreshToken"]
            async with runtime.db.transaction() as session:
                await change(UserService(session, runtime))
            assert (await _refresh(client, token)).json()["error"] == "INVALID_REFRESH_TOKEN"
