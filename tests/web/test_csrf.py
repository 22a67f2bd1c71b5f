"""Every form post carries a token bound to the session (or, before sign-in, to the login cookie), and a
post another site makes the browser send is refused even when it carries the cookie and a valid token."""

from fastapi import FastAPI

from portal.runtime import Runtime
from portal.users.models import Role
from tests.web.conftest import DemoTenant
from tests.web.console import console_client, csrf_of, sign_in


async def _still_signed_in(client: object) -> bool:
    answer = await client.get("/", follow_redirects=False)  # type: ignore[attr-defined]
    return bool(answer.status_code == 200)


async def test_a_form_post_without_its_token_is_refused_and_changes_nothing(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.ADMIN)
    async with console_client(app, "acme") as client:
        await sign_in(client, email, password)
        for fields in ({}, {"csrf": ""}, {"csrf": "0" * 64}):
            refused = await client.post("/logout", data=fields)
            assert refused.status_code == 403, fields
            assert refused.headers["content-type"].startswith("text/html")
            assert "reload the page" in refused.text
        assert await _still_signed_in(client)


async def test_a_token_of_another_session_is_refused(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.ADMIN)
    async with console_client(app, "acme") as first, console_client(app, "acme") as second:
        await sign_in(first, email, password)
        await sign_in(second, email, password)
        token_of_first = csrf_of((await first.get("/")).text)
        assert (await second.post("/logout", data={"csrf": token_of_first})).status_code == 403
        assert await _still_signed_in(second)


async def test_a_cross_site_post_with_the_cookie_and_a_valid_token_is_refused(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    email, password = demo.credentials(Role.ADMIN)
    async with console_client(app, "acme") as client:
        await sign_in(client, email, password)
        token = csrf_of((await client.get("/")).text)
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},  # another tenant's subdomain is another site's page too
            {"Origin": "https://evil.example"},
            {"Origin": "http://globex.localhost"},
            {"Origin": "null"},
        ):
            refused = await client.post("/logout", data={"csrf": token}, headers=headers)
            assert refused.status_code == 403, headers
            assert "from another site" in refused.text
        assert await _still_signed_in(client)
        same_origin = await client.post(
            "/logout", data={"csrf": token}, headers={"Origin": "http://acme.localhost"}
        )
        assert same_origin.status_code == 303


async def test_the_login_form_needs_its_token_too(runtime: Runtime, app: FastAPI, demo: DemoTenant) -> None:
    email, password = demo.credentials(Role.USER)
    async with console_client(app, "acme") as client:
        refused = await client.post("/login", data={"email": email, "password": password})
        assert refused.status_code == 403
        assert "portal_session" not in refused.headers.get("set-cookie", "")
