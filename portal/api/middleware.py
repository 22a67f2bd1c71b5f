"""The one pure ASGI middleware every request passes first (no BaseHTTPMiddleware: it costs a task per
request): request ids, access logs and metrics, the header cap and the 1 MiB body limit."""

import asyncio
import random
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.api.errors import error_response
from portal.errors import HeadersTooLarge, PayloadTooLarge, RequestTimeout
from portal.logs import AccessLog
from portal.metrics import UNMATCHED, Metrics

BODY_TOO_LARGE = "portal.body_too_large"
BODY_TIMED_OUT = "portal.body_timed_out"


def _new_request_id() -> str:
    """32 hex digits, as uuid4().hex, from the random module's generator (reseeded in a forked child),
    not the system's: os.urandom is a system call that lets go of the GIL, and under load taking it back
    cost the event loop a few percent of its time (5 % on SQLite, whose connection threads compete for
    it). A request id names a request in the logs; it guards nothing, so it need not be unguessable."""
    return f"{random.getrandbits(128):032x}"


class RequestContext:
    """Gives each request an id (kept from a sane `X-Request-ID`), echoes it, and logs one line and its
    metrics once answered. Before the app sees the request it refuses, with 431, one whose line and
    headers pass `max_header_bytes` (`portal serve` refuses those before reading them, in
    portal.api.server; this answers the same under any other ASGI server), and with 413 one whose
    Content-Length passes `max_body_bytes`; `BodyLimit` watches the body as the handler reads it.

    One layer rather than one per concern: a cached read costs about 150 µs, and each layer cost it a
    call and another walk over its headers."""

    def __init__(
        self,
        app: ASGIApp,
        access_log: AccessLog,
        metrics: Metrics,
        max_header_bytes: int,
        max_body_bytes: int,
        body_timeout: float,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _HeadersRead(scope)
        request_id = headers.request_id or _new_request_id()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            if headers.size > self.max_header_bytes:
                await _send_error(send_with_id, HeadersTooLarge())
            elif headers.content_length > self.max_body_bytes:
                await _send_error(send_with_id, PayloadTooLarge())
            else:
                limited = BodyLimit(scope, receive, self.max_body_bytes, self.body_timeout)
                await self.app(scope, limited.receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            self.access_log.request(request_id, scope["method"], scope["path"], status, seconds)
            template = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.request(scope["method"], template, status, seconds)
            structlog.contextvars.unbind_contextvars("request_id")


class _HeadersRead:
    """What the middleware needs of a request's headers, found in one walk over them: the size of the
    request line and headers, a sane incoming `X-Request-ID`, and the declared Content-Length."""

    __slots__ = ("content_length", "request_id", "size")

    def __init__(self, scope: Scope) -> None:
        self.size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        self.request_id: str | None = None
        self.content_length = 0
        for name, value in scope["headers"]:
            self.size += len(name) + len(value) + 4
            if name == b"x-request-id" and self.request_id is None:
                text = value.decode("latin-1")
                if 0 < len(text) <= 128 and text.replace("-", "").isalnum():
                    self.request_id = text
            elif name == b"content-length" and value.isdigit():
                self.content_length = max(self.content_length, int(value))


class BodyLimit:
    """The request's `receive` as the app reads the body through it: a body that passes `max_bytes` as it
    streams in is refused with 413, one that takes longer than `timeout` seconds to arrive once the
    handler starts reading it with 408."""

    def __init__(self, scope: Scope, receive: Receive, max_bytes: int, timeout: float) -> None:
        self.scope = scope
        self._receive = receive
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.received = 0
        self.deadline: float | None = None

    async def receive(self) -> Message:
        if self.deadline is None:
            self.deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.scope[BODY_TIMED_OUT] = True
            raise RequestTimeout(headers={"Connection": "close"}) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_bytes:
                # FastAPI turns any failure while reading the body into a 400; the mark lets the error
                # handler answer what really happened.
                self.scope[BODY_TOO_LARGE] = True
                raise PayloadTooLarge()
        return message


async def _send_error(send: Send, error: Any) -> None:
    response = error_response(error)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})
