"""Per-client-IP rate limits through `limits`: in memory by default, in Redis when configured."""

import asyncio
import ipaddress
import math
import time
from collections.abc import Sequence

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from portal.errors import RateLimited, ServiceUnavailable
from portal.logs import get_logger

log = get_logger("portal.ratelimit")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def limits_storage_uri(redis_url: str) -> str:
    """`redis://` as a user writes it, in the async form `limits` expects."""
    for scheme in ("redis://", "rediss://", "redis+unix://"):
        if redis_url.startswith(scheme):
            return "async+" + redis_url
    return redis_url


class RateLimiter:
    def __init__(
        self, redis_url: str | None, namespace: str, timeout: float = 1.0, ipv6_prefix: int = 64
    ) -> None:
        self.timeout = timeout
        self.ipv6_prefix = ipv6_prefix
        self.storage = self._storage(redis_url, timeout)
        self.strategy = MovingWindowRateLimiter(self.storage)
        # Per-key request budgets (hundreds a minute) are counted with two counters per key, not one
        # entry per request: the same cost at 600 a minute as at 600,000.
        self.counter = SlidingWindowCounterRateLimiter(self.storage)
        self.namespace = namespace

    @staticmethod
    def _storage(redis_url: str | None, timeout: float) -> Storage:
        if not redis_url:
            return MemoryStorage()
        # The client's own timeouts drop a connection that stopped answering, so no later command reads
        # a stale reply from it; the deadline in `hit` bounds the whole check whatever happens.
        storage = storage_from_string(
            limits_storage_uri(redis_url),
            wrap_exceptions=True,
            stream_timeout=timeout,
            connect_timeout=timeout,
        )
        assert isinstance(storage, Storage)
        return storage

    async def hit(self, limit: RateLimitItem, bucket: str, client_ip: str) -> None:
        """Counts one attempt; raises `RateLimited` once the window is full.

        When the shared counter store cannot be reached the attempt is refused (503), not let through:
        an outage of Redis must not switch off the protection against password guessing.
        """
        await self._hit(self.strategy, limit, bucket, limit_key(client_ip, self.ipv6_prefix))

    async def hit_counter(self, limit: RateLimitItem, bucket: str, key: str) -> None:
        """Counts one request of `key` (an API key's id) in a sliding window; `RateLimited` once full.
        Like `hit`, refuses (503) when the shared counter store cannot be reached."""
        await self._hit(self.counter, limit, bucket, key)

    async def _hit(
        self,
        strategy: MovingWindowRateLimiter | SlidingWindowCounterRateLimiter,
        limit: RateLimitItem,
        bucket: str,
        key: str,
    ) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                if await strategy.hit(limit, self.namespace, bucket, key):
                    return
                stats = await strategy.get_window_stats(limit, self.namespace, bucket, key)
        except (StorageError, TimeoutError) as exc:
            cause = exc.storage_error if isinstance(exc, StorageError) else exc
            log.error("rate_limit_store_unavailable", error=type(cause).__name__)
            raise ServiceUnavailable("The rate-limit store cannot be reached; try again shortly.") from exc
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))


def parse_limit(text: str) -> RateLimitItem:
    return parse(text)


def parse_networks(entries: Sequence[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def limit_key(address: str, ipv6_prefix: int) -> str:
    """What one client's attempts are counted under: its IPv4 address, or its IPv6 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]) -> str:
    """The peer address, or the address a trusted proxy says it forwarded for.

    `X-Forwarded-For` is read from the right: each trusted proxy appends the address it received the
    request from, so the first entry not itself a trusted proxy is the client. Anything left of it was
    written by the client and proves nothing. Some proxies write `address:port` (`[v6]:port`); the
    port is not part of who the client is.
    """
    address = peer or "unknown"
    if not forwarded_for or not is_trusted_proxy(address, trusted):
        return address
    for entry in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not entry:
            continue
        address = _without_port(entry)
        if not is_trusted_proxy(address, trusted):
            break
    return address


def _without_port(entry: str) -> str:
    if entry.startswith("["):
        return entry[1:].partition("]")[0]
    if entry.count(":") == 1:  # a bare IPv6 address has at least two colons
        return entry.partition(":")[0]
    return entry


def is_trusted_proxy(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
