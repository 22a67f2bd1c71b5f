import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class ReceiverServer(ThreadingHTTPServer):
    # The standard backlog of 5 refuses connections when two workers open 32 at once, and a refused
    # delivery then waits for its retry, which can outlast a test's patience.
    request_queue_size = 128
    daemon_threads = True


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]


@dataclass
class LoopbackReceiver:
    """A real HTTP(S) server on 127.0.0.1 whose answer is chosen by the request path."""

    port: int
    scheme: str
    requests: list[ReceivedRequest] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    def url(self, path: str = "/ok", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


class _Handler(BaseHTTPRequestHandler):
    receiver: LoopbackReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.receiver.requests.append(
            ReceivedRequest(
                "POST",
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                (self.client_address[0], self.client_address[1]),
            )
        )
        parts = self.path.strip("/").split("/")
        try:
            if parts[0] == "ok":
                self._answer(204)
            elif parts[0] == "echo":
                self._answer(200, body)
            elif parts[0] == "status":
                self._answer(int(parts[1]), f"status {parts[1]}".encode())
            elif parts[0] == "redirect":
                self._answer(302, b"", {"location": "https://example.com/elsewhere"})
            elif parts[0] == "retry-after":
                self._answer(503, b"busy", {"retry-after": parts[1].replace("%20", " ")})
            elif parts[0] == "binary":
                self._answer(500, b"\xff\xfe oops \xc3")
            elif parts[0] == "endless":
                self._endless()
            elif parts[0] == "trickle":
                self._trickle()
            else:
                self._answer(404)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        chunk = b"x" * 65536
        for _ in range(100_000):  # 6 GiB: only a client that stops reading gets an answer in time
            self.wfile.write(chunk)
        self.close_connection = True

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "1000")
        self.end_headers()
        for _ in range(1000):
            self.wfile.write(b".")
            self.wfile.flush()
            time.sleep(0.1)


def _serve(scheme: str, ssl_context: ssl.SSLContext | None) -> Iterator[LoopbackReceiver]:
    server = ReceiverServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    receiver = LoopbackReceiver(port=server.server_address[1], scheme=scheme)
    if ssl_context is not None:

        def remember_sni(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, ctx: ssl.SSLContext) -> None:
            receiver.server_names.append(name)

        ssl_context.sni_callback = remember_sni
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_receiver() -> Iterator[LoopbackReceiver]:
    yield from _serve("http", None)


@dataclass
class SelfSignedCertificate:
    hostname: str
    cert_path: Path
    key_path: Path

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.cert_path))
        return context


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"`{name}` is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCertificate:
    """A self-signed certificate for `receiver.test` (and nothing else, not even its IP address)."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=receiver.test",
            "-addext", "subjectAltName=DNS:receiver.test",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return SelfSignedCertificate("receiver.test", cert, key)


@pytest.fixture
def https_receiver(certificate: SelfSignedCertificate) -> Iterator[LoopbackReceiver]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_path, certificate.key_path)
    yield from _serve("https", context)


class ConnectionCounter:
    """A bare listening socket that never accepts: the kernel queues every connection that reaches it,
    so `arrived()` counts them exactly, with no thread and no waiting."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]

    def arrived(self) -> int:
        self._sock.setblocking(False)
        count = 0
        while True:
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def tcp_listener() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


@dataclass
class Reply:
    """One answer of a `ScriptedReceiver`; with `hold`, the answer waits until that event is set."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hold: threading.Event | None = None


class ScriptedReceiver:
    """A real HTTP server on loopback that answers from a script (then `default`) and records every
    request, so a test can make an endpoint fail, hang or disappear and then recover."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.arrived = threading.Condition()
        self.port = port
        self._server: ReceiverServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "ScriptedReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.arrived:
                    receiver.requests.append(
                        ReceivedRequest(
                            "POST",
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            (self.client_address[0], self.client_address[1]),
                        )
                    )
                    reply = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.arrived.notify_all()
                if reply.hold is not None:
                    reply.hold.wait(30)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        server = ReceiverServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def wait_for_requests(self, count: int, timeout: float = 20.0) -> list[ReceivedRequest]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def scripted_receiver() -> Iterator[ScriptedReceiver]:
    scripted = ScriptedReceiver().start()
    yield scripted
    scripted.stop()
