import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from portal.webhooks.sending import MAX_RESPONSE_BYTES, parse_retry_after, send
from portal.webhooks.signing import new_secret, sign
from portal.webhooks.targets import build_client
from tests.webhooks.conftest import ConnectionCounter, LoopbackReceiver

BODY = b'{"type":"webhook.test","timestamp":"2025-01-01T00:00:00Z","data":{"webhookId":"w1","message":"hi"}}'


async def test_a_signed_delivery_arrives_and_verifies(http_receiver: LoopbackReceiver) -> None:
    secret = new_secret()
    headers = sign([secret], "msg_1", datetime.now(UTC), BODY)
    async with build_client(allow_private=True) as client:
        result = await send(client, http_receiver.url("/ok"), headers, BODY)
    assert result.succeeded and not result.gone
    assert (result.http_status, result.error, result.response_body, result.retry_after) == (
        204,
        None,
        "",
        None,
    )
    assert result.latency_ms >= 0
    received = http_receiver.requests[0]
    assert received.body == BODY
    assert received.headers["content-type"] == "application/json"
    Webhook(secret).verify(received.body, received.headers)


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/status/500", 500, "HTTP 500"),
        ("/status/400", 400, "HTTP 400"),
        ("/status/410", 410, "HTTP 410"),
        ("/redirect", 302, "HTTP 302: redirects are not followed (to https://example.com/elsewhere)"),
    ],
)
async def test_anything_but_2xx_is_a_failure(
    http_receiver: LoopbackReceiver, path: str, status: int, error: str
) -> None:
    async with build_client(allow_private=True) as client:
        result = await send(client, http_receiver.url(path), {}, BODY)
    assert not result.succeeded
    assert (result.http_status, result.error) == (status, error)
    assert result.gone == (status == 410)
    assert len(http_receiver.requests) == 1


async def test_retry_after_in_seconds_and_as_a_date(http_receiver: LoopbackReceiver) -> None:
    async with build_client(allow_private=True) as client:
        seconds = await send(client, http_receiver.url("/retry-after/120"), {}, BODY)
        dated = await send(
            client, http_receiver.url("/retry-after/Wed,%2021%20Oct%202015%2007:28:00%20GMT"), {}, BODY
        )
    assert (seconds.http_status, seconds.retry_after, seconds.response_body) == (503, 120.0, "busy")
    assert dated.retry_after == 0.0  # a date in the past means "now"


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:10:00 GMT", now) == 600.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None


async def test_reads_at_most_64_kib_and_keeps_4_kib(http_receiver: LoopbackReceiver) -> None:
    async with build_client(allow_private=True) as client:
        result = await send(client, http_receiver.url("/endless"), {}, BODY, timeout=30)
    # The server would send 6 GiB; an answer at all means the reading stopped at the cap.
    assert result.succeeded
    assert result.response_body == "x" * 4096
    assert MAX_RESPONSE_BYTES == 65536


async def test_response_body_is_decoded_with_replacement(http_receiver: LoopbackReceiver) -> None:
    async with build_client(allow_private=True) as client:
        result = await send(client, http_receiver.url("/binary"), {}, BODY)
    assert result.response_body == "\ufffd\ufffd oops \ufffd"


async def test_the_timeout_bounds_the_whole_attempt(http_receiver: LoopbackReceiver) -> None:
    # The receiver sends a byte every 0.1 s: no single read times out, the attempt as a whole must.
    async with build_client(allow_private=True) as client:
        result = await send(client, http_receiver.url("/trickle"), {}, BODY, timeout=0.5)
    assert (result.http_status, result.error) == (None, "timed out after 0.5 s")


async def test_a_silent_receiver_times_out(tcp_listener: ConnectionCounter) -> None:
    async with build_client(allow_private=True, timeout=0.3) as client:
        result = await send(client, f"http://127.0.0.1:{tcp_listener.port}/", {}, BODY)
    assert result.http_status is None
    assert result.error is not None and result.error.startswith("timed out")


async def test_network_problems_become_errors_not_exceptions() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with build_client(allow_private=True) as client:
        refused = await send(client, f"http://127.0.0.1:{port}/", {}, BODY)
        unknown = await send(client, "http://no-such-host.invalid/", {}, BODY)
        garbage = await send(client, "http://[not-an-ip/", {}, BODY)
    for result in (refused, unknown, garbage):
        assert result.http_status is None and result.error


def resolving_to(address: str) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return [address]

    return resolve


@pytest.mark.parametrize("url", ["https://localhost/", "http://hooks.example.com/", "https://[::1]/"])
async def test_refused_targets_become_errors(url: str, tcp_listener: ConnectionCounter) -> None:
    async with build_client(allow_private=False) as client:
        result = await send(client, url, {}, BODY)
    assert result.http_status is None
    assert result.error is not None and result.error.startswith("target refused: ")


async def test_metadata_address_is_refused() -> None:
    async with build_client(allow_private=False, resolver=resolving_to("169.254.169.254")) as client:
        result = await send(client, "https://metadata.example.com/latest", {}, BODY)
    assert result.error == (
        "target refused: metadata.example.com resolves to 169.254.169.254, "
        "a link-local address (this includes cloud metadata services); webhooks go to public addresses "
        "only (PORTAL_WEBHOOK_ALLOW_PRIVATE=true on the portal allows others, for development)"
    )
