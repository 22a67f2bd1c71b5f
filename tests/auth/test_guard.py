"""A route whose endpoint takes the request alone is called without FastAPI's parameter handling
(`direct_handler`); its access is checked first all the same."""

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from portal.api.routing import add_routes
from portal.auth.actor import Actor
from portal.auth.guard import GuardedRoute, Member, direct_handler
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller


def _admins_only() -> APIRouter:
    router = APIRouter(prefix="/api/test", route_class=GuardedRoute)

    @router.get("/who", dependencies=[Depends(Member(Role.ADMIN))])
    async def who(request: Request) -> Response:
        actor: Actor = request.state.actor
        return Response(actor.role.value, media_type="text/plain")

    @router.get("/who-as-json", dependencies=[Depends(Member(Role.ADMIN))])
    async def who_as_json(request: Request) -> dict[str, str]:
        actor: Actor = request.state.actor
        return {"role": actor.role.value}

    return router


def _route(app: FastAPI, path: str) -> APIRoute:
    return next(r for r in app.router.routes if isinstance(r, APIRoute) and r.path == path)


async def test_an_endpoint_taking_the_request_alone_is_guarded_like_any_other(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_routes(app, _admins_only())
    assert direct_handler(_route(app, "/api/test/who")) is not None
    admin = await make_caller(runtime, client, Role.ADMIN)
    viewer = await make_caller(runtime, client, Role.VIEWER, tenant=admin.tenant)

    assert (await client.get("/api/test/who")).status_code == 400
    anonymous = await client.get("/api/test/who", headers={"X-Tenant": admin.tenant.slug})
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "UNAUTHORIZED")
    refused = await client.get("/api/test/who", headers=viewer.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "FORBIDDEN")
    answered = await client.get("/api/test/who", headers=admin.headers)
    assert (answered.status_code, answered.text) == (200, "admin")
    assert answered.headers["x-request-id"]


async def test_an_endpoint_that_leaves_its_answer_to_fastapi_goes_through_fastapi(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    add_routes(app, _admins_only())
    assert direct_handler(_route(app, "/api/test/who-as-json")) is None
    admin = await make_caller(runtime, client, Role.ADMIN)
    answered = await client.get("/api/test/who-as-json", headers=admin.headers)
    assert (answered.status_code, answered.json()) == (200, {"role": "admin"})


def test_the_status_probe_and_the_catalog_take_their_paths(app: FastAPI) -> None:
    # The probe is polled by every load balancer: it skips FastAPI's parameter handling. The catalog
    # reads its caller and parameters through it.
    assert direct_handler(_route(app, "/api/status")) is not None
    assert direct_handler(_route(app, "/api/docker-images")) is None


def test_a_route_turns_away_by_its_literal_ends_only_what_its_pattern_would(app: FastAPI) -> None:
    # Every API path (each parameter filled in, and with a slash added or a segment more), asked of every
    # API route: the shortcut in GuardedRoute.matches answers what the pattern alone answers.
    routes = [route for route in app.router.routes if isinstance(route, GuardedRoute)]
    paths = {route.path_format.replace("{", "x").replace("}", "") for route in routes}
    matched = set()
    for path in sorted(paths | {path + "/" for path in paths} | {path + "/more" for path in paths}):
        for method in ("GET", "POST"):
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            for route in routes:
                match = route.matches(scope)[0]
                assert match == APIRoute.matches(route, scope)[0], (method, path, route.path)
                if match is not Match.NONE:
                    matched.add(path)
    assert paths <= matched, paths - matched
