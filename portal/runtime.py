"""The long-lived services one process needs, built once from the settings.

The API, the worker and the command line each build one `Runtime`; request handlers reach it through
`request.app.state.runtime`.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from limits import RateLimitItem

from portal.auth.cache import IdentityCache
from portal.auth.passwords import PasswordHasher
from portal.auth.ratelimit import IPNetwork, RateLimiter, parse_limit, parse_networks
from portal.auth.tokens import AccessTokenCodec
from portal.config import Settings
from portal.db import Database
from portal.jobs.wakeup import SIGNAL_KEY, JobSignal
from portal.kit.clock import Clock, utcnow

if TYPE_CHECKING:
    from portal.kit.encryption import SecretBox
    from portal.scanning.index import KeptMatcher
    from portal.scanning.listing import FindingLists


@dataclass
class Runtime:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    tokens: AccessTokenCodec
    limiter: RateLimiter
    login_limit: RateLimitItem
    refresh_limit: RateLimitItem
    trusted_proxies: tuple[IPNetwork, ...]
    clock: Clock = field(default=utcnow)
    # Wakes this process's job workers when a commit queues jobs.
    job_signal: JobSignal = field(default_factory=JobSignal)
    # What this process remembers about callers; see auth.cache.
    identities: IdentityCache = field(default_factory=IdentityCache)

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
        job_signal = JobSignal()
        return cls(
            settings=settings,
            db=Database(settings.effective_database_url, {SIGNAL_KEY: job_signal}),
            hasher=PasswordHasher(
                settings.argon2_time_cost,
                settings.argon2_memory_cost,
                settings.argon2_parallelism,
                settings.password_check_concurrency,
            ),
            tokens=AccessTokenCodec(
                settings.effective_secret_key,
                settings.jwt_issuer,
                settings.jwt_audience,
                settings.access_token_ttl_seconds,
                clock,
            ),
            limiter=RateLimiter(
                settings.redis_url,
                rate_limit_namespace,
                settings.rate_limit_timeout_seconds,
                settings.rate_limit_ipv6_prefix,
            ),
            login_limit=parse_limit(settings.login_rate_limit),
            refresh_limit=parse_limit(settings.refresh_rate_limit),
            trusted_proxies=parse_networks(settings.trusted_proxies),
            clock=clock,
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
