"""`portal serve` as the README starts it on a laptop, as a real process: what it prints and warns at start,
uvicorn's own lines as the portal's JSON, and webhooks to a receiver on this machine (the documented
path: PORTAL_WEBHOOK_ALLOW_PRIVATE=true, create the webhook, start the receiver with its secret), with one
log line per delivery attempt."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller
from tests.live_server import free_port
from tests.webhooks.test_receiver_examples import start_receiver, stop_receiver

PORTAL = shutil.which("portal", path=str(Path(sys.executable).parent)) or "portal"


@dataclass
class Served:
    url: str
    stdout: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def portal_serve(settings: Settings, folder: Path, **env: str) -> Iterator[Served]:
    """Runs `portal serve` until the block ends, then stops it with Ctrl-C and reads what it wrote. Every
    line on its stderr must be a JSON object (PORTAL_LOG_JSON is on)."""
    port = free_port()
    environment = {
        **os.environ,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_DATABASE_URL": settings.effective_database_url,
        "PORTAL_SECRET_KEY": settings.effective_secret_key,
        "PORTAL_LOG_JSON": "true",
        "PORTAL_LOG_LEVEL": "INFO",
        "PORTAL_WORKER_POLL_SECONDS": "0.05",
        **env,
    }
    process = subprocess.Popen(
        [PORTAL, "serve", "--port", str(port)],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while not _answers(served.url):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "portal serve did not answer"
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    served.stdout = stdout
    served.log = [json.loads(line) for line in stderr.splitlines() if line.strip()]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/status", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait_for(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _test_webhook_to_a_receiver(
    url: str, headers: dict[str, str], folder: Path
) -> tuple[str, dict[str, Any]]:
    """As the README's steps 2 to 4: create the webhook, start the receiver with its secret, send a test.
    Returns the webhook's id and its one delivery, once the receiver has accepted it."""
    receiver = None
    try:
        with httpx.Client(base_url=url, headers=headers) as api:
            # The secret comes first (the receiver needs it), then the receiver's port: this one picks a
            # free port, so the webhook moves to it once it listens.
            created = api.post(
                "/api/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["image.version.published"]}
            )
            assert created.status_code == 201, created.text
            hook = created.json()
            receiver = start_receiver("python", folder, hook["secret"])
            moved = api.put(f"/api/webhooks/{hook['id']}", json={"url": receiver.url})
            assert moved.status_code == 200, moved.text
            assert api.post(f"/api/webhooks/{hook['id']}/test").status_code == 202
            _wait_for(lambda: any(line.startswith("accepted webhook.test") for line in receiver.lines))
            [delivery] = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()["items"]
            return hook["id"], delivery
    finally:
        if receiver is not None:
            stop_receiver(receiver)


async def test_a_webhook_to_this_machine_as_the_readme_says(
    runtime: Runtime, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    with portal_serve(
        settings, tmp_path, PORTAL_WEBHOOK_ALLOW_PRIVATE="true", PORTAL_LOGIN_RATE_LIMIT="30/minute"
    ) as served:
        hook_id, delivery = await asyncio.to_thread(
            _test_webhook_to_a_receiver, served.url, admin.headers, tmp_path
        )

    assert "Sign-ins: 30/minute per client address (PORTAL_LOGIN_RATE_LIMIT)" in served.stdout
    assert "reset when it restarts" in served.stdout
    [warning] = [line for line in served.log if line["event"] == "webhook_private_targets_allowed"]
    assert warning["level"] == "warning" and warning["setting"] == "PORTAL_WEBHOOK_ALLOW_PRIVATE"
    [attempt] = [line for line in served.log if line["event"] == "webhook_attempt"]
    assert (attempt["delivery"], attempt["webhook"], attempt["status"]) == (delivery["id"], hook_id, 204)
    assert attempt["message_id"] == delivery["webhookId"] and isinstance(attempt["duration_ms"], int)
    assert attempt["host"] == "127.0.0.1" and attempt["level"] == "info"
    uvicorn = [line for line in served.log if line.get("logger", "").startswith("uvicorn")]
    assert any(line["event"].startswith(f"Uvicorn running on {served.url}") for line in uvicorn), uvicorn
    assert all({"event", "level", "timestamp"} <= set(line) for line in served.log)


async def test_the_defaults_print_the_strict_limit_and_warn_of_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    defaults = {"PORTAL_WEBHOOK_ALLOW_PRIVATE": "false", "PORTAL_LOGIN_RATE_LIMIT": "5/15 minutes"}
    with portal_serve(settings, tmp_path, **defaults) as served:
        pass

    assert "Sign-ins: 5/15 minutes per client address (PORTAL_LOGIN_RATE_LIMIT)" in served.stdout
    assert not [line for line in served.log if line["event"] == "webhook_private_targets_allowed"]
    assert any(line.get("logger") == "uvicorn.error" for line in served.log)
