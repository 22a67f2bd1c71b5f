"""Who may call a route, checked in the contract's order before FastAPI reads the body.

Each route declares its access with one dependency (`Public`, `TenantOnly`, or `Member(role)`), which
also documents it in OpenAPI. `GuardedRoute` finds that declaration and runs the checks before the
request body is parsed, so answers come in the order design.md fixes: route and method, `X-Tenant`,
bearer token, token tenant, role, then object and body. A route that declares nothing is treated as
`Member(Role.VIEWER)`: forgetting a declaration never opens a route.
"""

import inspect
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from starlette.routing import Match
from starlette.types import Scope

from portal.api.cached import cache_topics, cached_answer
from portal.api.openapi import error_responses
from portal.audit import AuditAction, AuditOutcome, record_refused
from portal.auth.actor import Actor, Origin
from portal.auth.ratelimit import client_ip
from portal.auth.service import resolve_actor
from portal.errors import (
    Forbidden,
    RateLimited,
    TenantRequired,
    Unauthorized,
    UnsupportedMediaType,
)
from portal.runtime import Runtime
from portal.tenants.service import TENANT_SLUG_PATTERN, is_valid_slug
from portal.users.models import Role

TENANT_HEADER_PARAMETER = {
    "name": "X-Tenant",
    "in": "header",
    "required": True,
    "description": "The tenant's slug: the subdomain you log in on.",
    "schema": {"type": "string", "pattern": TENANT_SLUG_PATTERN},
}
BEARER_SCHEME = "bearerAuth"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The scope key under which `portal.api.cached_reads.CachedReads` leaves the access check it made.
ACCESS_CHECKED = "portal.access_checked"


@dataclass(frozen=True)
class Access:
    needs_tenant: bool
    needs_token: bool
    min_role: Role = Role.VIEWER
    rate_limit: str | None = None  # "login" or "refresh"


class Public:
    access = Access(needs_tenant=False, needs_token=False)

    async def __call__(self) -> None:
        return None


class TenantOnly:
    """The login flow: `X-Tenant` but no bearer token, optionally rate limited per client IP."""

    def __init__(self, rate_limit: str | None = None) -> None:
        self.access = Access(needs_tenant=True, needs_token=False, rate_limit=rate_limit)

    async def __call__(self, request: Request) -> str:
        slug: str = request.state.tenant_slug
        return slug


class Member:
    """An authenticated user of the `X-Tenant` tenant with at least `min_role`."""

    def __init__(self, min_role: Role = Role.VIEWER) -> None:
        self.access = Access(needs_tenant=True, needs_token=True, min_role=min_role)

    async def __call__(self, request: Request) -> Actor:
        actor: Actor = request.state.actor
        return actor


DEFAULT_ACCESS = Access(needs_tenant=True, needs_token=True)


@dataclass(frozen=True, slots=True)
class CheckedAccess:
    """Access to `route` checked ahead of the framework (`CachedReads`): the error it ended with, or
    None with the revisions at which the cache held no answer. The route neither checks nor looks again."""

    route: "GuardedRoute"
    error: Exception | None
    missed_at: tuple[int, ...] | None = None


CurrentActor = Annotated[Actor, Depends(Member(Role.VIEWER))]
UserRoleActor = Annotated[Actor, Depends(Member(Role.USER))]
AdminActor = Annotated[Actor, Depends(Member(Role.ADMIN))]


def route_access(dependant: Dependant) -> Access:
    declared = [call.access for call in _calls(dependant) if isinstance(call, Public | TenantOnly | Member)]
    if not declared:
        return DEFAULT_ACCESS
    return max(declared, key=lambda access: (access.needs_token, access.min_role.rank))


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


class GuardedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.access = access = route_access(self.dependant)
        self.cache_topics = cache_topics(self.endpoint)
        statuses = {500}
        if access.needs_tenant:
            statuses |= {400, 503}  # every tenant route reads the database, the login flow included
        if access.needs_token:
            statuses |= {401, 403, 429}  # 429: an API key past its request budget
        if access.rate_limit:
            statuses |= {429}
        if self.body_field is not None:
            statuses |= {400, 408, 413, 415}
        self.responses = error_responses(*sorted(statuses)) | dict(self.responses)
        # FastAPI made the documented bodies' fields from the responses it was given; these came after.
        for status, response in self.responses.items():
            model = response.get("model")
            if model is not None and status not in self.response_fields:
                self.response_fields[status] = create_model_field(
                    name=f"Response_{status}_{self.unique_id}", type_=model, mode="serialization"
                )
        # The header and the bearer scheme are read by check_access, not by FastAPI's parameter
        # machinery (which would cost a fifth of a request); they are documented here instead.
        extra: dict[str, Any] = {}
        if access.needs_tenant:
            extra["parameters"] = [TENANT_HEADER_PARAMETER]
        if access.needs_token:
            extra["security"] = [{BEARER_SCHEME: []}]
        self.openapi_extra = extra | (self.openapi_extra or {})
        # The route's path up to its first parameter and after its last (for a path without any, the
        # path itself): a request's path that does not begin and end with them cannot match.
        head, _, rest = self.path_format.partition("{")
        self.literal_ends = (head, rest.rpartition("}")[2] if rest else head)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The app tries its routes in turn, and a request to the scan history passes a dozen before its
        # own: turning one away by its literal ends costs a fifth of its pattern and FastAPI's lookups,
        # some 10 µs of such a request in all. (Under a `root_path` the pattern decides alone.)
        path: str = scope["path"]
        head, tail = self.literal_ends
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and not (path.startswith(head) and path.endswith(tail))
        ):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = direct_handler(self) or super().get_route_handler()
        route, access, topics = self, route_access(self.dependant), cache_topics(self.endpoint)
        takes_body = self.body_field is not None

        async def guarded(request: Request) -> Response:
            checked: CheckedAccess | None = request.scope.pop(ACCESS_CHECKED, None)
            if checked is None or checked.route is not route:
                checked = None
                await check_access(request, access)
            elif checked.error is not None:
                raise checked.error
            if takes_body:
                _require_json(request)
            if topics is not None:
                return await cached_answer(request, topics, handler, checked.missed_at if checked else None)
            return await handler(request)

        return guarded


def direct_handler(route: APIRoute) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
    """The endpoint itself as the route's handler, when FastAPI's handling would add nothing to it.

    That is an endpoint that takes the request alone (its access declared in the route's
    `dependencies`, which `check_access` has checked already), reads no body and answers a `Response` of
    its own: solving its dependencies, which do nothing, would cost about a third of such a request
    (the status probe, which load balancers and monitors poll). Any other route goes through FastAPI.
    """
    endpoint, dependant = route.endpoint, route.dependant
    if not inspect.iscoroutinefunction(endpoint) or route.body_field is not None:
        return None
    signature = inspect.signature(endpoint, eval_str=True)
    if list(signature.parameters) != [dependant.request_param_name]:
        return None
    answers = signature.return_annotation
    if not (isinstance(answers, type) and issubclass(answers, Response)):
        return None
    if not all(isinstance(sub.call, Public | TenantOnly | Member) for sub in dependant.dependencies):
        return None
    answer: Callable[[Request], Coroutine[Any, Any, Response]] = endpoint
    return answer


async def check_access(request: Request, access: Access) -> None:
    runtime: Runtime = request.app.state.runtime
    if not access.needs_tenant:
        return
    slug = request.headers.get("x-tenant", "")
    if not is_valid_slug(slug):
        raise TenantRequired()
    request.state.tenant_slug = slug
    if access.rate_limit is not None:
        limit = runtime.login_limit if access.rate_limit == "login" else runtime.refresh_limit
        try:
            await runtime.limiter.hit(limit, access.rate_limit, request_origin(request).ip or "unknown")
        except RateLimited:
            runtime.metrics.login_refusals.labels(access.rate_limit).inc()
            raise
    if not access.needs_token:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    actor = await resolve_actor(runtime, token.strip(), slug, request_origin(request))
    if actor.role.rank < access.min_role.rank:
        if request.method not in READ_METHODS:
            await record_refused(
                runtime.db,
                actor,
                AuditAction.ACCESS_DENIED,
                outcome=AuditOutcome.DENIED,
                details={
                    "method": request.method,
                    "path": request.url.path,
                    "requiredRole": access.min_role.value,
                },
                clock=runtime.clock,
            )
        raise Forbidden(f"This needs the {access.min_role.value} role; you have {actor.role.value}.")
    request.state.actor = actor


def request_origin(request: Request) -> Origin:
    """The client address (through `PORTAL_TRUSTED_PROXIES`), its user agent and the request id."""
    runtime: Runtime = request.app.state.runtime
    peer = request.client.host if request.client else None
    return Origin(
        ip=client_ip(peer, request.headers.get("x-forwarded-for"), runtime.trusted_proxies),
        user_agent=(request.headers.get("user-agent") or None),
        request_id=getattr(request.state, "request_id", None),
    )


def _require_json(request: Request) -> None:
    content_type = request.headers.get("content-type")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if content_type is None and not has_body:
        return
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType()
