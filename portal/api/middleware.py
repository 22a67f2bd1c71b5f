"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request): request ids, access
logs, the header cap and the 1 MiB body limit."""

import asyncio
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.api.errors import error_response
from portal.errors import HeadersTooLarge, PayloadTooLarge, RequestTimeout
from portal.logs import AccessLog
from portal.metrics import UNMATCHED, Metrics

BODY_TOO_LARGE = "portal.body_too_large"
BODY_TIMED_OUT = "portal.body_timed_out"


class RequestContext:
    """Gives each request an id (kept from a sane `X-Request-ID`), echoes it, and logs one line."""

    def __init__(self, app: ASGIApp, access_log: AccessLog, metrics: Metrics) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        started = time.perf_counter()
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
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            self.access_log.request(request_id, scope["method"], scope["path"], status, seconds)
            template = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.request(scope["method"], template, status, seconds)
            structlog.contextvars.unbind_contextvars("request_id")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if 0 < len(text) <= 128 and text.replace("-", "").isalnum():
                return text
    return None


class HeaderSizeLimit:
    """431 for a request whose line and headers pass the cap. `portal serve` refuses those before
    reading them (portal.api.server); this answers the same under any other ASGI server."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                await _send_error(send, HeadersTooLarge())
                return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Refuses bodies over the limit: at once by Content-Length, or as soon as a streamed body passes it;
    and bodies that take longer than `timeout` seconds to arrive once the handler starts reading."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _send_error(send, PayloadTooLarge())
                return
        received = 0
        deadline: float | None = None

        async def limited_receive() -> Message:
            nonlocal received, deadline
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + self.timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                scope[BODY_TIMED_OUT] = True
                raise RequestTimeout(headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI turns any failure while reading the body into a 400; the mark lets the
                    # error handler answer what really happened.
                    scope[BODY_TOO_LARGE] = True
                    raise PayloadTooLarge()
            return message

        await self.app(scope, limited_receive, send)


async def _send_error(send: Send, error: Any) -> None:
    response = error_response(error)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})
