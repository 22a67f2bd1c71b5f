"""Route answers served from the read cache (`portal.kit.readcache`).

A read route marks itself `@cached(TOPIC, ...)`, naming what its answer is made of; a caller's repeated
request is then served from memory once access is checked, without running the handler (by
`portal.api.cached_reads.CachedReads`, ahead of the framework; by `GuardedRoute` otherwise). The
key holds the caller's tenant and role, the path and the query string, so one tenant never sees what was
made for another. Only 200 answers are kept, each until its data changes or, if what it was made of
expires (`portal.kit.readcache.lasts_until`), until then.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request, Response
from starlette.types import Send

from portal.auth.actor import Actor
from portal.kit.readcache import Topic, computing
from portal.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])

_TOPICS = "__portal_cache_topics__"


def cached(*topics: Topic) -> Callable[[F], F]:
    """Marks a read route whose answer depends only on the caller's tenant, role, path and query, and on
    the data of `topics`."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _TOPICS, topics)
        return endpoint

    return mark


def cache_topics(endpoint: Callable[..., Any]) -> tuple[Topic, ...] | None:
    topics: tuple[Topic, ...] | None = getattr(endpoint, _TOPICS, None)
    return topics


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes
    # content-length and content-type, as a `Response` of the body and the handler's media type sends them
    headers: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def of(cls, body: bytes, media_type: str | None) -> "CachedAnswer":
        return cls(body, tuple(Response(content=body, media_type=media_type).raw_headers))

    def response(self) -> Response:
        response = Response(content=self.body)
        response.raw_headers = list(self.headers)
        return response

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


def _key(request: Request) -> tuple[Any, ...]:
    actor: Actor = request.state.actor
    return ("route", actor.tenant_id, actor.role, request.scope["path"], request.scope["query_string"])


async def look_up(request: Request, topics: tuple[Topic, ...]) -> tuple[tuple[int, ...], CachedAnswer | None]:
    """The topics' current revisions, and the answer kept for this caller's request if made at them."""
    cache = request.app.state.runtime.read_cache
    revisions = await cache.revisions(topics)
    found = cache.get(_key(request), revisions)
    return revisions, found if isinstance(found, CachedAnswer) else None


async def cached_answer(
    request: Request,
    topics: tuple[Topic, ...],
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
    missed_at: tuple[int, ...] | None = None,
) -> Response:
    """The kept answer, or the handler's, kept if it is a 200. `missed_at`: the revisions at which the
    cache was looked up for this request already (by `CachedReads`) and held nothing."""
    if missed_at is None:
        revisions, found = await look_up(request, topics)
        if found is not None:
            return found.response()
    else:
        revisions = missed_at
    with computing() as deadline:
        response = await handler(request)
    body = getattr(response, "body", None)
    if response.status_code == 200 and isinstance(body, bytes) and not response.background:
        runtime: Runtime = request.app.state.runtime
        answer = CachedAnswer.of(body, response.media_type)
        runtime.read_cache.put(_key(request), revisions, answer, len(body), deadline.moment)
    return response
