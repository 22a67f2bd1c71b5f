"""One delivery attempt: POST the signed body, read a bounded answer, never raise for network trouble."""

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from portal.webhooks.targets import TargetRefused

MAX_RESPONSE_BYTES = 64 * 1024
STORED_RESPONSE_BYTES = 4 * 1024
DEFAULT_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class AttemptResult:
    http_status: int | None
    latency_ms: int
    # None exactly when the attempt succeeded (a 2xx answer); otherwise why it failed.
    error: str | None
    response_body: str
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def gone(self) -> bool:
        """The receiver answered 410: the subscription should be disabled."""
        return self.http_status == 410


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _read_capped(response: httpx.Response) -> bytes:
    received = bytearray()
    # Raw bytes: the cap is on what crosses the wire, and we ask for no content coding.
    async for chunk in response.aiter_raw():
        received += chunk
        if len(received) >= MAX_RESPONSE_BYTES:
            break
    return bytes(received[:MAX_RESPONSE_BYTES])


async def _attempt(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, str, float | None, str | None]:
    request_headers = {"content-type": "application/json", "accept-encoding": "identity", **headers}
    request = client.build_request("POST", url, headers=request_headers, content=body)
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        received = await _read_capped(response)
    finally:
        await response.aclose()
    status = response.status_code
    error: str | None = None
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        error = f"HTTP {status}: redirects are not followed" + (f" (to {location})" if location else "")
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    text = received[:STORED_RESPONSE_BYTES].decode("utf-8", errors="replace")
    return status, text, parse_retry_after(response.headers.get("retry-after")), error


async def send(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    # Inside, not around: a deadline must come back as a failed attempt, not as an exception.
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
) -> AttemptResult:
    """POST one delivery. `timeout` bounds the whole attempt, not each read, so a trickling receiver
    cannot hold a worker for longer."""
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(timeout):
            status, text, retry_after, error = await _attempt(client, url, headers, body)
    except TimeoutError:
        return AttemptResult(None, elapsed_ms(), f"timed out after {timeout:g} s", "", None)
    except TargetRefused as exc:
        return AttemptResult(None, elapsed_ms(), f"target refused: {exc.reason}", "", None)
    except httpx.TimeoutException as exc:
        return AttemptResult(None, elapsed_ms(), f"timed out: {_describe(exc)}", "", None)
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        return AttemptResult(None, elapsed_ms(), _describe(exc), "", None)
    return AttemptResult(status, elapsed_ms(), error, text, retry_after)
