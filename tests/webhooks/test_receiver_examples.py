"""The receiver examples in examples/webhook-receivers, run as real programs and fed real deliveries."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from portal.events import EventType
from portal.runtime import Runtime
from portal.webhooks.signing import new_secret, sign
from portal.webhooks.worker import DeliveryWorker
from tests import services
from tests.conftest import make_settings
from tests.factories import make_tenant
from tests.shared_fixtures import REPO_ROOT
from tests.webhooks.conftest import require_tool
from tests.webhooks.factories import make_subscription, queue_event

EXAMPLES = REPO_ROOT / "examples" / "webhook-receivers"
SECRET = new_secret()
LANGUAGES = ["python", "go", "ruby"]


@dataclass
class RunningReceiver:
    language: str
    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    collector: threading.Thread | None = None

    def wait_for_line(self, wanted: str, timeout: float = 10.0) -> list[str]:
        with self.changed:
            self.changed.wait_for(lambda: wanted in self.lines, timeout)
            return list(self.lines)


def _command(language: str, build_dir: Path) -> list[str]:
    folder = EXAMPLES / language
    if language == "python":
        return [sys.executable, str(folder / "receiver.py")]
    if language == "go":
        go = require_tool("go")
        binary = build_dir / "receiver"
        subprocess.run([go, "build", "-o", str(binary), "."], cwd=folder, check=True, capture_output=True)
        return [str(binary)]
    ruby = require_tool("ruby")
    if subprocess.run([ruby, "-e", 'require "webrick"'], capture_output=True).returncode != 0:
        reason = "Ruby's webrick is not installed (apt-get install ruby-webrick)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return [ruby, str(folder / "receiver.rb")]


def start_receiver(language: str, build_dir: Path, secret: str) -> RunningReceiver:
    command = _command(language, build_dir)
    env = {**os.environ, "WEBHOOK_SECRET": secret, "PORT": "0"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    assert first.startswith("listening on 127.0.0.1:"), f"{language} receiver said {first!r}"
    running = RunningReceiver(language, "http://" + first.removeprefix("listening on "), process)

    def collect() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with running.changed:
                running.lines.append(line.strip())
                running.changed.notify_all()

    running.collector = threading.Thread(target=collect, daemon=True)
    running.collector.start()
    return running


def stop_receiver(running: RunningReceiver) -> None:
    running.process.terminate()
    running.process.wait(timeout=10)
    if running.collector is not None:
        running.collector.join(timeout=10)


@pytest.fixture(scope="module", params=LANGUAGES)
def receiver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningReceiver]:
    language: str = request.param
    running = start_receiver(language, tmp_path_factory.mktemp(language), SECRET)
    yield running
    stop_receiver(running)


def delivery(
    event_type: str = "webhook.test",
    secrets: list[str] | None = None,
    sent_at: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "type": event_type,
            "timestamp": "2025-05-01T10:00:00Z",
            "data": {"webhookId": "3f1c", "message": "Grüße from the portal"},
        },
        ensure_ascii=False,
    ).encode()
    return sign(secrets or [SECRET], msg_id, sent_at or datetime.now(UTC), body), body


def post(receiver: RunningReceiver, headers: dict[str, str], body: bytes) -> httpx.Response:
    return httpx.post(receiver.url, headers={"content-type": "application/json", **headers}, content=body)


def library_accepts(headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(SECRET).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_accepts_a_signed_delivery_and_processes_it_once(receiver: RunningReceiver) -> None:
    headers, body = delivery("scan.completed")
    assert library_accepts(headers, body)
    assert post(receiver, headers, body).status_code == 204
    assert post(receiver, headers, body).status_code == 204  # the duplicate is acknowledged ...

    marker_headers, marker_body = delivery("webhook.test")
    assert post(receiver, marker_headers, marker_body).status_code == 204
    lines = receiver.wait_for_line(f"accepted webhook.test {marker_headers['webhook-id']}")
    # ... but not processed again: the receiver handles one delivery at a time, so by the time the
    # later delivery is printed, a second print of the duplicate would be there.
    assert lines.count(f"accepted scan.completed {headers['webhook-id']}") == 1


def test_accepts_a_delivery_signed_during_a_rotation(receiver: RunningReceiver) -> None:
    headers, body = delivery("cve.watch.matched", secrets=[new_secret(), SECRET])
    assert library_accepts(headers, body)
    assert post(receiver, headers, body).status_code == 204
    receiver.wait_for_line(f"accepted cve.watch.matched {headers['webhook-id']}")


def _tampered() -> tuple[dict[str, str], bytes]:
    headers, body = delivery()
    return headers, body.replace(b"portal", b"attacker")


def _wrong_secret() -> tuple[dict[str, str], bytes]:
    return delivery(secrets=[new_secret()])


def _stale() -> tuple[dict[str, str], bytes]:
    return delivery(sent_at=datetime.now(UTC) - timedelta(minutes=6))


def _from_the_future() -> tuple[dict[str, str], bytes]:
    return delivery(sent_at=datetime.now(UTC) + timedelta(minutes=6))


def _replayed_with_a_new_timestamp() -> tuple[dict[str, str], bytes]:
    headers, body = delivery(sent_at=datetime.now(UTC) - timedelta(minutes=2))
    return {**headers, "webhook-timestamp": str(int(datetime.now(UTC).timestamp()))}, body


def _other_id() -> tuple[dict[str, str], bytes]:
    headers, body = delivery()
    return {**headers, "webhook-id": "msg_other"}, body


def _unknown_version_only() -> tuple[dict[str, str], bytes]:
    headers, body = delivery()
    return {**headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,")}, body


def _unsigned() -> tuple[dict[str, str], bytes]:
    headers, body = delivery()
    return {k: v for k, v in headers.items() if k != "webhook-signature"}, body


@pytest.mark.parametrize(
    ("make", "statuses"),
    [
        (_tampered, {401}),
        (_wrong_secret, {401}),
        (_stale, {401}),
        (_from_the_future, {401}),
        (_replayed_with_a_new_timestamp, {401}),
        (_other_id, {401}),
        (_unknown_version_only, {401}),
        (_unsigned, {400}),
    ],
)
def test_refuses_what_the_official_library_refuses(
    receiver: RunningReceiver, make: Callable[[], tuple[dict[str, str], bytes]], statuses: set[int]
) -> None:
    headers, body = make()
    assert not library_accepts(headers, body)
    assert post(receiver, headers, body).status_code in statuses
    assert not any(headers.get("webhook-id", "-") in line for line in receiver.lines)


class ForwardingProxy:
    """Sits between the portal's worker and an example receiver: passes each delivery on unchanged and
    keeps a copy, so the test can replay exactly what the portal sent, tampered."""

    def __init__(self) -> None:
        self.target = ""
        self.captured: list[tuple[dict[str, str], bytes, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("webhook-")}
                answer = httpx.post(
                    proxy.target, headers={"content-type": "application/json", **headers}, content=body
                )
                proxy.captured.append((headers, body, answer.status_code))
                self.send_response(answer.status_code)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/portal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_accepts_a_real_delivery_from_the_portal_and_refuses_it_tampered(
    language: str, tmp_path: Path, sqlite_template: Path
) -> None:
    settings = make_settings(
        tmp_path, services.sqlite_copy(sqlite_template, tmp_path), webhook_allow_private=True
    )
    runtime = Runtime.build(settings, rate_limit_namespace=uuid.uuid4().hex)
    proxy = ForwardingProxy()
    running: RunningReceiver | None = None
    try:
        tenant = await make_tenant(runtime)
        subscription = await make_subscription(runtime, tenant, proxy.url, [EventType.SCAN_COMPLETED])
        running = await asyncio.to_thread(start_receiver, language, tmp_path / "build", subscription.secret)
        proxy.target = running.url
        await queue_event(runtime, tenant, EventType.SCAN_COMPLETED, scan_id="s-1", image_name="Grüße")
        assert await DeliveryWorker(runtime).deliver_due() == 1

        ((headers, body, status),) = proxy.captured
        assert status == 204
        await asyncio.to_thread(running.wait_for_line, f"accepted scan.completed {headers['webhook-id']}")
        Webhook(subscription.secret).verify(body, headers)
        tampered = await asyncio.to_thread(post, running, headers, body.replace(b"s-1", b"s-2"))
        assert tampered.status_code == 401
    finally:
        proxy.close()
        if running is not None:
            stop_receiver(running)
        await runtime.close()
