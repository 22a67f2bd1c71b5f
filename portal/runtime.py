"""The long-lived services one process needs, built once from the settings.

The API, the worker and the command line each build one `Runtime`; request handlers reach it through
`request.app.state.runtime`. What only serving the API needs (password hashing, access tokens, rate
limits) is made on first use: a command that reads a table never imports JWT, argon2 or `limits`.
"""

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from portal.auth.cache import IdentityCache, LoadOnceCache
from portal.config import Settings
from portal.db import Database, PoolLimits
from portal.kit.clock import Clock, utcnow
from portal.kit.readcache import ReadCache
from portal.kit.wakeup import CACHE_CHANNEL, JOBS_CHANNEL, OUTBOX_CHANNEL, SIGNALS_KEY, CommitSignal

if TYPE_CHECKING:
    from limits import RateLimitItem

    from portal.auth.passwords import PasswordHasher
    from portal.auth.ratelimit import IPNetwork, RateLimiter
    from portal.auth.tokens import AccessTokenCodec
    from portal.kit.encryption import SecretBox
    from portal.kit.notify import NotificationListener
    from portal.metrics import Metrics
    from portal.scanning.index import KeptMatcher
    from portal.scanning.listing import FindingLists


@dataclass
class Runtime:
    settings: Settings
    db: Database
    # Reads kept until their data changes (kit.readcache), and the status probe's last answer.
    read_cache: ReadCache
    # channel -> what wakes this process when a commit queues jobs or webhook work, or changes cached
    # data (kit.wakeup); the database's sessions carry the same ones
    signals: dict[str, CommitSignal]
    clock: Clock = field(default=utcnow)
    # Keeps the rate-limit counters of two runtimes sharing one Redis apart (tests).
    rate_limit_namespace: str = "portal"
    # What this process remembers about callers; see auth.cache.
    identities: IdentityCache = field(default_factory=IdentityCache)
    status_answers: "LoadOnceCache[str, tuple[int, bytes]]" = field(default_factory=LoadOnceCache)

    # On PostgreSQL, once started: what hears other processes' commits.
    listener: "NotificationListener | None" = field(default=None, init=False, repr=False)
    _listener: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _stop_listening: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    @property
    def job_signal(self) -> CommitSignal:
        return self.signals[JOBS_CHANNEL]

    @property
    def outbox_signal(self) -> CommitSignal:
        return self.signals[OUTBOX_CHANNEL]

    async def start(self) -> None:
        """Starts what a long-running process needs besides requests: on PostgreSQL, hearing other
        processes' commits (kit.notify). `close` stops it."""
        if self.db.is_sqlite or self._listener is not None:
            return
        from portal.kit.notify import NotificationListener

        self.listener = listener = NotificationListener(self.db.url, self.signals)
        self._stop_listening = asyncio.Event()
        self._listener = asyncio.create_task(listener.run(self._stop_listening), name="notify-listener")

    @cached_property
    def hasher(self) -> "PasswordHasher":
        from portal.auth.passwords import PasswordHasher

        settings = self.settings
        return PasswordHasher(
            settings.argon2_time_cost,
            settings.argon2_memory_cost,
            settings.argon2_parallelism,
            settings.password_check_concurrency,
        )

    @cached_property
    def tokens(self) -> "AccessTokenCodec":
        from portal.auth.tokens import AccessTokenCodec

        settings = self.settings
        return AccessTokenCodec(
            settings.effective_secret_key,
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.access_token_ttl_seconds,
            self.clock,
        )

    @cached_property
    def limiter(self) -> "RateLimiter":
        from portal.auth.ratelimit import RateLimiter

        settings = self.settings
        return RateLimiter(
            settings.redis_url,
            self.rate_limit_namespace,
            settings.rate_limit_timeout_seconds,
            settings.rate_limit_ipv6_prefix,
        )

    @cached_property
    def login_limit(self) -> "RateLimitItem":
        from portal.auth.ratelimit import parse_limit

        return parse_limit(self.settings.login_rate_limit)

    @cached_property
    def refresh_limit(self) -> "RateLimitItem":
        from portal.auth.ratelimit import parse_limit

        return parse_limit(self.settings.refresh_rate_limit)

    @cached_property
    def api_key_limit(self) -> "RateLimitItem":
        from portal.auth.ratelimit import parse_limit

        return parse_limit(self.settings.api_key_rate_limit)

    @cached_property
    def trusted_proxies(self) -> "tuple[IPNetwork, ...]":
        from portal.auth.ratelimit import parse_networks

        return parse_networks(self.settings.trusted_proxies)

    def check_api_settings(self) -> None:
        """Reads the API's settings now, so that a bad one stops the server at start, not a request."""
        _ = (self.login_limit, self.refresh_limit, self.api_key_limit, self.trusted_proxies, self.tokens)

    @cached_property
    def metrics(self) -> "Metrics":
        """This runtime's Prometheus metrics (portal.metrics); made on first use, so a command that
        records none does not load the library."""
        from portal.metrics import Metrics

        metrics = Metrics()
        self.read_cache.on_lookup = metrics.cache_lookup
        return metrics

    @cached_property
    def secrets(self) -> "SecretBox":
        """Encrypts what the portal keeps readable (webhook signing secrets); made on first use, so a
        command that needs none neither loads the cipher nor makes a key."""
        from portal.kit.encryption import SecretBox

        return SecretBox(self.settings.effective_encryption_keys)

    @classmethod
    def build(
        cls, settings: Settings, clock: Clock = utcnow, rate_limit_namespace: str = "portal"
    ) -> "Runtime":
        signals = {
            channel: CommitSignal(channel) for channel in (JOBS_CHANNEL, OUTBOX_CHANNEL, CACHE_CHANNEL)
        }
        db = Database(
            settings.effective_database_url,
            {SIGNALS_KEY: signals},
            pool=PoolLimits(
                settings.database_pool_size,
                settings.database_max_overflow,
                settings.database_pool_timeout_seconds,
            ),
        )
        read_cache = ReadCache(db, settings.read_cache_seconds, settings.read_cache_mb * 1024 * 1024, clock)
        signals[CACHE_CHANNEL].subscribe(read_cache.expire)
        return cls(
            settings=settings,
            db=db,
            read_cache=read_cache,
            signals=signals,
            clock=clock,
            rate_limit_namespace=rate_limit_namespace,
        )

    @cached_property
    def finding_lists(self) -> "FindingLists":
        """Finding sets prepared for the findings list, kept by digest (scanning.listing)."""
        from portal.scanning.listing import FindingLists

        return FindingLists()

    @cached_property
    def kept_matcher(self) -> "KeptMatcher":
        """The advisories this process's scans match against, kept between them (scanning.index)."""
        from portal.scanning.index import KeptMatcher

        return KeptMatcher()

    async def close(self) -> None:
        if self._listener is not None:
            self._stop_listening.set()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = self.listener = None
        await self.db.dispose()
