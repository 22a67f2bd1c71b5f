"""Signing in and out of the console: the session cookie, the server-side session, the login limit."""

import httpx
from fastapi import FastAPI

from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests.factories import OPERATOR, login, make_tenant, make_user
from tests.web.conftest import DemoTenant
from tests.web.console import console_client, csrf_of, sign_in


async def test_signing_in_sets_a_strict_session_cookie_and_opens_the_catalog(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.VIEWER)
    async with console_client(app, "acme") as client:
        first = await client.get("/", follow_redirects=False)
        assert (first.status_code, first.headers["location"]) == (303, "/login?next=/")
        answer = await sign_in(client, email, password)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("portal_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        catalog = await client.get("/")
        assert catalog.status_code == 200 and "text/html" in catalog.headers["content-type"]
        assert "nginx" in catalog.text and email in catalog.text
        again = await client.get("/login?next=/watches", follow_redirects=False)
        assert (again.status_code, again.headers["location"]) == (303, "/watches")
        elsewhere = await client.get("/login?next=//evil.example/", follow_redirects=False)
        assert elsewhere.headers["location"] == "/"


async def test_the_cookie_is_secure_over_https(runtime: Runtime, app: FastAPI, demo: DemoTenant) -> None:
    email, password = demo.credentials(Role.USER)
    async with console_client(app, "acme", https=True) as client:
        answer = await sign_in(client, email, password)
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("portal_session="))
        assert "Secure" in cookie


async def test_signing_out_ends_the_session_on_the_server(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.ADMIN)
    async with console_client(app, "acme") as client:
        await sign_in(client, email, password)
        stolen = client.cookies["portal_session"]
        catalog = await client.get("/")
        out = await client.post("/logout", data={"csrf": csrf_of(catalog.text)})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
    async with console_client(app, "acme") as replay:
        replay.cookies.set("portal_session", stolen, domain="acme.localhost")
        again = await replay.get("/", follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"].startswith("/login")


async def test_a_wrong_password_and_an_unknown_tenant_get_the_same_refusal(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, _password = demo.credentials(Role.ADMIN)
    async with console_client(app, "acme") as client:
        wrong = await sign_in(client, email, "not-the-password")
    async with console_client(app, "nosuchtenant") as client:
        unknown = await sign_in(client, email, "not-the-password")
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Invalid email or password." in answer.text and "<form" in answer.text
        assert "portal_session" not in answer.headers.get("set-cookie", "")


async def test_the_console_and_the_api_share_the_login_limit(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.USER)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.77", 40000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        for _ in range(3):
            assert (await login(api, "acme", email, "wrong")).status_code == 401
    async with console_client(app, "acme", client_ip="198.51.100.77") as client:
        assert (await sign_in(client, email, "wrong")).status_code == 401
        assert (await sign_in(client, email, password)).status_code == 303
        client.cookies.clear()  # signed out on this side: the sixth attempt of this address
        limited = await sign_in(client, email, password)
        assert limited.status_code == 429 and "retry in" in limited.text
        assert int(limited.headers["retry-after"]) > 0


async def test_a_disabled_user_is_signed_out_at_once(runtime: Runtime, app: FastAPI) -> None:
    tenant = await make_tenant(runtime)
    user, password = await make_user(runtime, tenant, Role.ADMIN)
    async with console_client(app, tenant.slug) as client:
        assert (await sign_in(client, user.email, password)).status_code == 303
        assert (await client.get("/")).status_code == 200
        async with runtime.db.transaction() as session:
            await UserService(session, runtime).set_active(OPERATOR.within(tenant.ref), user.email, False)
        after = await client.get("/", follow_redirects=False)
        assert after.status_code == 303 and after.headers["location"].startswith("/login")


async def test_a_host_that_names_no_tenant_explains_where_to_go(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        answer = await client.get("/")
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
        assert "acme.localhost:8000" in answer.text
        assert (await client.get("/api/status")).headers["content-type"] == "application/json"
