"""The HTTP server as `portal serve` runs it, met by clients that send too much or too little."""

import json
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from portal.api.server import HttpImplementation
from portal.app import create_app
from portal.runtime import Runtime
from tests.live_server import serve

IMPLEMENTATIONS: list[HttpImplementation] = ["httptools", "h11"]


@pytest.fixture(params=IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest, app: FastAPI) -> Iterator[tuple[str, int]]:
    with serve(app, http=request.param) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


def _exchange(address: tuple[str, int], head: bytes, filler: int = 0, body: bytes = b"") -> bytes:
    """Sends `head` (and `filler` bytes of one more header, a MiB at a time), then reads the answer.
    Stops sending as soon as the server answers or closes."""
    with socket.create_connection(address, timeout=20) as sock:
        try:
            sock.sendall(head)
            if filler:
                sock.sendall(b"X-Filler: ")
                chunk = b"a" * (1 << 20)
                for _ in range(filler >> 20):
                    sock.sendall(chunk)
                sock.sendall(b"\r\n")
            sock.sendall(b"\r\n" + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking all of it: what a cap should do
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.find(b"\r\n\r\n") + 4 + _length(answer):
            try:
                received = sock.recv(65536)
            except ConnectionResetError:
                break
            if not received:
                break
            answer += received
        return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_huge_header_answers_431_before_it_is_read(server: tuple[str, int]) -> None:
    answer = _exchange(server, b"GET /api/status HTTP/1.1\r\nHost: portal\r\n", filler=32 << 20)
    assert _status(answer) == 431, answer[:300]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "REQUEST_HEADERS_TOO_LARGE"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_headers_within_the_cap_and_a_body_are_served(server: tuple[str, int]) -> None:
    head = b"GET /api/status HTTP/1.1\r\nHost: portal\r\nX-Note: " + b"n" * 8000 + b"\r\n"
    assert _status(_exchange(server, head)) == 200
    # Arrives in the same reads as the head: the body's bytes are not header bytes.
    body = json.dumps({"email": "x@example.com", "password": "whatever"}).encode() + b" " * 200_000
    post = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: portal\r\nX-Tenant: acme\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
    )
    assert _status(_exchange(server, post, body=body)) == 401


async def test_any_asgi_server_answers_431_for_oversized_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/status", headers={"X-Filler": "a" * 20_000})
    assert (answer.status_code, answer.json()["error"]) == (431, "REQUEST_HEADERS_TOO_LARGE")
    assert (await client.get("/api/status", headers={"X-Filler": "a" * 8_000})).status_code == 200


@pytest.fixture(params=IMPLEMENTATIONS)
def impatient_server(request: pytest.FixtureRequest, runtime: Runtime) -> Iterator[tuple[str, int]]:
    patience = runtime.settings.model_copy(update={"body_timeout_seconds": 1.0})
    impatient = Runtime.build(patience, rate_limit_namespace=uuid.uuid4().hex)
    with serve(create_app(runtime=impatient), http=request.param) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_body_that_stalls_is_answered_408_and_the_connection_closed(
    impatient_server: tuple[str, int],
) -> None:
    with socket.create_connection(impatient_server, timeout=20) as sock:
        sock.sendall(
            b"POST /api/auth/logout HTTP/1.1\r\nHost: portal\r\nX-Tenant: acme\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            b'{"refreshToken": '
        )
        answer = b""
        while received := sock.recv(65536):  # the server must answer and close, not wait for the rest
            answer += received
    assert _status(answer) == 408, answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] == "REQUEST_TIMEOUT"
