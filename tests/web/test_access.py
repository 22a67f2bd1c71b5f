"""Walks every page route of the app, so routes added later are held to the same rules: without a
session a page sends the browser to sign in, and no form post is taken without its CSRF token."""

import uuid
from collections.abc import Iterator, Sequence

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_tenant
from tests.web.console import console_client, signed_in_client

SIGN_IN_PAGES = {"/login", "/activate"}


def _routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)


def page_operations(app: FastAPI) -> list[tuple[str, str]]:
    operations = []
    for route in _routes(app.routes):
        if route.path.startswith("/api/"):
            continue
        path = route.path_format
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", "spdx" if name == "kind" else str(uuid.uuid4()))
        operations += [(method, path) for method in sorted(route.methods)]
    assert len(operations) > 5
    return operations


async def test_every_page_but_sign_in_needs_a_session(runtime: Runtime, app: FastAPI) -> None:
    tenant = await make_tenant(runtime)
    async with console_client(app, tenant.slug) as client:
        for method, path in page_operations(app):
            if path in SIGN_IN_PAGES:
                continue
            answer = await client.request(method, path, follow_redirects=False)
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/login?next="), (method, path)


async def test_no_form_post_is_taken_without_its_token(runtime: Runtime, app: FastAPI) -> None:
    tenant = await make_tenant(runtime)
    async with signed_in_client(runtime, app, tenant, Role.ADMIN) as client:
        posts = [path for method, path in page_operations(app) if method == "POST"]
        for path in posts:
            answer = await client.post(path, data={"csrf": "forged"})
            assert answer.status_code == 403, (path, answer.status_code)
        assert (await client.get("/")).status_code == 200  # still signed in
