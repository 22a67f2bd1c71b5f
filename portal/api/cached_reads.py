"""Repeated reads answered from the read cache ahead of the framework's layers.

A cached route's answer (`portal.api.cached`) is served, once access is checked, without running its
handler. Reaching that check through Starlette's and FastAPI's layers (the router's walk over a hundred
routes, the request-response wrapper, the exit-stack and exception layers, each wrapping `send`) cost
as much as the check and the lookup together. `CachedReads` sits inside `RequestContext` and the pages'
headers (so the request id, access line, metrics and size caps are as for any request) and for a `GET`:

1. finds the route the router would pick (the first whose pattern matches in full, remembered per path);
   unless it is a cached `GuardedRoute`, the request goes on as usual (so does a HEAD, and any request
   under a `root_path`);
2. checks access with the route's own `check_access`;
3. answers the kept answer, if the cache holds one made at the current revisions.

Otherwise the request goes on through the framework as usual, and the route does not check access a
second time: the outcome of the check and lookup made here, the actor or the error (a refusal, a
database that cannot be reached), is left in the scope for that route alone (`ACCESS_CHECKED`), so a
check that counts (an API key's request budget) counts once and an error is answered by the app's own
handlers. The answer is the one the route's handler would give from
the cache: the same key, status, body and headers.
"""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.api.cached import look_up
from portal.auth.guard import ACCESS_CHECKED, CheckedAccess, GuardedRoute, check_access

# Paths whose route is remembered; past this many, forgotten all at once (ids make paths many).
_REMEMBERED_PATHS = 4096


@dataclass(frozen=True, slots=True)
class _Found:
    route: GuardedRoute
    child: Scope


class CachedReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # path -> the cached route a GET of it reaches, or None; the app's routes never change once it
        # serves, and a route's match depends on the path and method alone (without a root path).
        self._routes: dict[str, _Found | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        found = self._route(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        route = found.route
        scope.update(found.child)
        scope["path_params"] = dict(found.child["path_params"])
        request = Request(scope, receive)
        assert route.cache_topics is not None
        try:
            await check_access(request, route.access)
            revisions, answer = await look_up(request, route.cache_topics)
        except Exception as error:  # the route raises it again, for the app's own handlers to answer
            checked = CheckedAccess(route, error)
        else:
            if answer is not None:
                await answer.send(send)
                return
            checked = CheckedAccess(route, None, missed_at=revisions)
        scope[ACCESS_CHECKED] = checked
        await self.app(scope, receive, send)

    def _route(self, scope: Scope) -> _Found | None:
        path: str = scope["path"]
        try:
            return self._routes[path]
        except KeyError:
            pass
        found = None
        for route in scope["app"].router.routes:
            match, child = route.matches(scope)
            if match == Match.FULL:
                if isinstance(route, GuardedRoute) and route.cache_topics is not None:
                    found = _Found(route, child)
                break
        if len(self._routes) >= _REMEMBERED_PATHS:
            self._routes.clear()
        self._routes[path] = found
        return found
