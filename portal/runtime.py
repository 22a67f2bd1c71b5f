"""The long-lived services one process needs, built once from the settings.

The API, the worker and the command line each build one `Runtime`; request handlers reach it through
`request.app.state.runtime`. What only serving the API needs (password hashing, access tokens, rate
limits) is made on first use: a command that reads a table never imports JWT, argon2 or `limits`, which
were a fifth of its start-up.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from portal.auth.cache import IdentityCache
from portal.config import Settings
from portal.db import Database
from portal.jobs.wakeup import SIGNAL_KEY, JobSignal
from portal.kit.clock import Clock, utcnow

if TYPE_CHECKING:
    from limits import RateLimitItem

    from portal.auth.passwords import PasswordHasher
    from portal.auth.ratelimit import IPNetwork, RateLimiter
    from portal.auth.tokens import AccessTokenCodec
    from portal.kit.encryption import SecretBox
    from portal.scanning.index import KeptMatcher
    from portal.scanning.listing import FindingLists


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default=utcnow)
    # Keeps the rate-limit counters of two runtimes sharing one Redis apart (tests).
    rate_limit_namespace: str = "portal"
    # Wakes this process's job workers when a commit queues jobs.
    job_signal: JobSignal = field(default_factory=JobSignal)
    # What this process remembers about callers; see auth.cache.
    identities: IdentityCache = field(default_factory=IdentityCache)

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

    @cached_property
    def secrets(self) -> "SecretBox":
        """Encrypts what the portal keeps readable (webhook signing secrets); made on first use, so a
        command that needs none neither loads the cipher nor makes a key."""
        from portal.kit.encryption import SecretBox

        return SecretBox(self.settings.effective_encryption_keys)

    def check_api_settings(self) -> None:
        """Reads the API's settings now, so that a bad one stops the server at start, not a request."""
        _ = (self.login_limit, self.refresh_limit, self.api_key_limit, self.trusted_proxies, self.tokens)

    @classmethod
    def build(
        cls, settings: Settings, clock: Clock = utcnow, rate_limit_namespace: str = "portal"
    ) -> "Runtime":
        job_signal = JobSignal()
        return cls(
            settings=settings,
            db=Database(settings.effective_database_url, {SIGNAL_KEY: job_signal}),
            clock=clock,
            rate_limit_namespace=rate_limit_namespace,
            job_signal=job_signal,
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
        await self.db.dispose()
