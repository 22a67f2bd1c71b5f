"""Route answers served from the read cache (`portal.kit.readcache`).

A read route marks itself `@cached(TOPIC, ...)`, naming what its answer is made of; `GuardedRoute` then
serves a caller's repeated request from memory once access is checked, without running the handler. The
key holds the caller's tenant and role, the path and the query string, so one tenant never sees what was
made for another. Only 200 answers are kept, each until its data changes or, if what it was made of
expires (`portal.kit.readcache.lasts_until`), until then.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request, Response

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
    media_type: str | None


async def cached_answer(
    request: Request,
    topics: tuple[Topic, ...],
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
) -> Response:
    runtime: Runtime = request.app.state.runtime
    actor: Actor = request.state.actor
    cache = runtime.read_cache
    key = ("route", actor.tenant_id, actor.role, request.scope["path"], request.scope["query_string"])
    revisions = await cache.revisions(topics)
    found = cache.get(key, revisions)
    if isinstance(found, CachedAnswer):
        return Response(content=found.body, media_type=found.media_type)
    with computing() as deadline:
        response = await handler(request)
    body = getattr(response, "body", None)
    if response.status_code == 200 and isinstance(body, bytes) and not response.background:
        cache.put(key, revisions, CachedAnswer(body, response.media_type), len(body), deadline.moment)
    return response
