"""Walks every route of the app: the access rules hold for routes added later too."""

import uuid
from collections.abc import Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from portal.auth.guard import GuardedRoute, route_access
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller, make_key_caller, make_tenant

PUBLIC = {"/api/status", "/api/openapi.json", "/api/docs", "/api/docs/oauth2-redirect"}
LOGIN_FLOW = {"/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/auth/activate"}


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute of the JSON API, also those inside included routers (FastAPI keeps those as
    wrappers). The web console's pages are guarded by their session instead (tests/web/test_access.py)."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def _operations(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    operations = []
    for route in api_routes(app.routes):
        path = route.path_format
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        for method in sorted(route.methods):
            operations.append((method, path, route))
    return operations


async def test_every_api_route_is_guarded(app: FastAPI) -> None:
    routes = list(api_routes(app.routes))
    assert {route.path for route in routes} == set(app.openapi()["paths"])
    for route in routes:
        assert isinstance(route, GuardedRoute), route.path
        access = route_access(route.dependant)
        if route.path in PUBLIC:
            assert not access.needs_tenant
        elif route.path in LOGIN_FLOW:
            assert access.needs_tenant and not access.needs_token
        else:
            assert access.needs_tenant and access.needs_token, route.path


@pytest.mark.parametrize("credential", ["access_token", "api_key"])
async def test_tenant_token_and_mismatch_rules_on_every_route(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, credential: str
) -> None:
    if credential == "api_key":
        caller = await make_key_caller(runtime, client, Role.ADMIN)
    else:
        caller = await make_caller(runtime, client, Role.ADMIN)
    other = await make_tenant(runtime)
    checked = 0
    for method, path, route in _operations(app):
        if route.path in PUBLIC:
            continue
        no_tenant = await client.request(
            method, path, headers={"Authorization": caller.headers["Authorization"]}
        )
        assert (method, path, no_tenant.status_code, no_tenant.json()["error"]) == (
            method,
            path,
            400,
            "TENANT_REQUIRED",
        )
        if route.path in LOGIN_FLOW:
            continue
        no_token = await client.request(method, path, headers={"X-Tenant": caller.tenant.slug})
        assert (method, path, no_token.status_code, no_token.json()["error"]) == (
            method,
            path,
            401,
            "UNAUTHORIZED",
        )
        mismatch = await client.request(method, path, headers={**caller.headers, "X-Tenant": other.slug})
        assert (method, path, mismatch.status_code, mismatch.json()["error"]) == (
            method,
            path,
            403,
            "TENANT_MISMATCH",
        )
        checked += 1
    assert checked >= 1
