"""Signing in to the web console over HTTP the way a browser does: the login form, its CSRF field and
the session cookie, on the tenant's own host (`<slug>.localhost`)."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.users.models import Role
from tests.factories import make_user

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def console_client(
    app: FastAPI, slug: str, client_ip: str = "198.51.100.20", https: bool = False
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000), raise_app_exceptions=False)
    scheme = "https" if https else "http"
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://{slug}.localhost")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf": csrf_of(form.text), "email": email, "password": password, "next": "/"},
    )


@asynccontextmanager
async def signed_in_client(
    runtime: Runtime, app: FastAPI, tenant: Tenant, role: Role, client_ip: str = "198.51.100.20"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new user of `tenant` with `role`, signed in through the form."""
    user, password = await make_user(runtime, tenant, role)
    async with console_client(app, tenant.slug, client_ip) as client:
        answer = await sign_in(client, user.email, password)
        assert answer.status_code == 303, answer.text
        yield client


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str | list[str]]
) -> httpx.Response:
    """Posts a form of `page` (its CSRF field included), as its own submit button would."""
    html = (await client.get(page)).text
    return await client.post(action, data={"csrf": csrf_of(html), **fields})
