"""The HTTP server the portal runs in: uvicorn, configured once for `portal serve` and the tests.

uvicorn's httptools protocol sets no limit on a request's head: httptools buffers a header of any size
before the application sees it, so one client could make the process hold and parse 64 MiB per
connection. The protocols here count the bytes of each request head as they arrive and feed the parser
no more than `PORTAL_MAX_HEADER_BYTES` of it; past that they answer 431 and close, before the rest is
read. The same holds for h11 (whose own limit would answer a bare 400).
"""

import asyncio
import json
from typing import Any, Literal

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from portal.config import Settings
from portal.errors import HeadersTooLarge
from portal.logs import uvicorn_log_config

HttpImplementation = Literal["auto", "httptools", "h11"]


def _refusal() -> bytes:
    error = HeadersTooLarge()
    body = json.dumps(error.body()).encode()
    head = (
        f"HTTP/1.1 {error.status} Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HeadCap:
    """Feeds the parser a request head a slice at a time, never more than the cap in all."""

    max_head_bytes: int
    transport: asyncio.Transport
    _head_bytes = 0

    def _reading_head(self) -> bool:
        raise NotImplementedError

    def data_received(self, data: bytes) -> None:
        while data:
            if not self._reading_head():
                # A body, and at most this read's worth of a pipelined request behind it.
                super().data_received(data)  # type: ignore[misc]
                return
            room = self.max_head_bytes - self._head_bytes
            if room <= 0:
                self.transport.write(_refusal())
                self.transport.close()
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)  # type: ignore[misc]
            if self.transport.is_closing():
                return


class CappedHttpToolsProtocol(_HeadCap, HttpToolsProtocol):
    _in_head = True

    def _reading_head(self) -> bool:
        return self._in_head

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._head_bytes = True, 0
        super().on_message_complete()


class CappedH11Protocol(_HeadCap, H11Protocol):
    def _reading_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._head_bytes = 0  # the head is read; the next request's starts from nothing


def _protocol(http: HttpImplementation, max_head_bytes: int) -> type[asyncio.Protocol]:
    if http == "auto":
        try:
            import httptools  # noqa: F401
        except ImportError:  # pragma: no cover (uvicorn[standard] brings httptools)
            http = "h11"
        else:
            http = "httptools"
    base: type[_HeadCap] = CappedHttpToolsProtocol if http == "httptools" else CappedH11Protocol
    return type(base.__name__, (base,), {"max_head_bytes": max_head_bytes})


def uvicorn_config(
    app: Any, settings: Settings, host: str, port: int, *, http: HttpImplementation = "auto", **options: Any
) -> uvicorn.Config:
    if settings.log_json:
        options.setdefault("log_config", uvicorn_log_config(settings.log_level))
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol(http, settings.max_header_bytes),
        # Above the cap, so that the cap (and its 431) always comes first.
        h11_max_incomplete_event_size=2 * settings.max_header_bytes,
        # The client IP comes from PORTAL_TRUSTED_PROXIES alone; uvicorn would otherwise trust
        # X-Forwarded-For from 127.0.0.1 and let any local proxy pick the rate-limit key.
        proxy_headers=False,
        forwarded_allow_ips="",
        server_header=False,
        access_log=False,
        log_level=settings.log_level.lower(),
        **options,
    )
