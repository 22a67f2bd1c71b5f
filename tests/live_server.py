"""A real uvicorn server on a loopback port, for tests that talk HTTP like a client would."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from portal.api.server import HttpImplementation, uvicorn_config
from portal.config import Settings
from portal.runtime import Runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI, http: HttpImplementation = "auto") -> Iterator[str]:
    """Serves `app` the way `portal serve` does (same uvicorn configuration), on a free loopback port."""
    port = free_port()
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    # An app that is not the portal's (a test's own page) is served with the default settings.
    settings = runtime.settings if runtime is not None else Settings(log_level="WARNING")
    server = uvicorn.Server(uvicorn_config(app, settings, "127.0.0.1", port, http=http))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
