"""Settings, read once from `PORTAL_*` environment variables."""

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"
ENCRYPTION_KEY_FILE = "encryption_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    # Database connections each process keeps open, how many more it may open under a burst, and how
    # long a request waits for one before it fails. On PostgreSQL a fleet needs
    # (processes x (pool + overflow)) + a few under the server's max_connections.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    secret_key: str | None = None
    # Fernet keys for the secrets kept readable (webhook signing secrets), comma-separated: the first
    # encrypts, all decrypt. Unset: one generated on first use and kept in the data directory.
    encryption_key: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redis_url: str | None = None

    login_rate_limit: str = "5/15 minutes"
    refresh_rate_limit: str = "60/15 minutes"
    # Requests per API key, shared through Redis when configured; never counted with the login limit.
    api_key_rate_limit: str = "600/minute"
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A Redis that stops answering (a network black hole) must not hold logins: past this, 503.
    rate_limit_timeout_seconds: float = Field(default=1.0, gt=0)
    # An IPv6 host usually holds a whole /64 and may use any address in it: count them together.
    rate_limit_ipv6_prefix: int = Field(default=64, ge=1, le=128)

    # Audit events older than this are deleted by the daily retention job (the only deletion there is).
    audit_retention_days: int = Field(default=400, ge=1)

    access_token_ttl_seconds: int = 15 * 60
    refresh_idle_ttl_seconds: int = 7 * 24 * 3600
    refresh_absolute_ttl_seconds: int = 30 * 24 * 3600
    refresh_reuse_grace_seconds: int = 0
    # The web console's sessions: ended after this long without a request, and in any case after the
    # absolute lifetime.
    browser_session_idle_seconds: int = Field(default=12 * 3600, ge=60)
    browser_session_absolute_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # The host names the tenant in the web console: `<slug>.<base domain>` (browsers resolve
    # `*.localhost` to this machine, so `acme.localhost:8000` works with no DNS).
    base_domain: str = "localhost"
    jwt_issuer: str = "portal"
    jwt_audience: str = "portal-api"
    # How long a process trusts what it last read about a user (active, role) before reading it again.
    # Changes made by this process take effect at once; changes from another process within this window.
    auth_cache_seconds: float = 1.0
    # Cached reads (kit.readcache): how long a process may serve them before it rereads whether another
    # process changed their data (a change in this process, or a notification on PostgreSQL, is at
    # once), and the memory they may hold.
    read_cache_seconds: float = Field(default=1.0, ge=0)
    read_cache_mb: int = Field(default=256, ge=0)
    # How long one answer of the public status probe serves every probe.
    status_cache_seconds: float = Field(default=1.0, ge=0)
    # The bearer token a Prometheus scraper presents at GET /metrics; unset, the route answers 404.
    metrics_token: str | None = None

    # argon2id parameters; the defaults are argon2-cffi's. Tests lower them to keep the suite fast.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    # Password checks one process runs at once; more logins at the same moment answer 503 with
    # Retry-After. Each check holds argon2_memory_cost KiB and a core.
    password_check_concurrency: int = Field(default_factory=lambda: max(2, os.cpu_count() or 1), ge=1)

    max_body_bytes: int = 1024 * 1024
    # From the moment a handler starts reading a body to its last byte; a client that stalls midway
    # gets 408 and loses the connection instead of holding it.
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    # The request line and headers together; more answers 431 before the rest is read.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    log_level: str = "INFO"
    log_json: bool = True

    webhook_allow_private: bool = False
    run_worker: bool = True
    # Webhook delivery. The defaults are the contract (design.md); tests shorten them.
    webhook_timeout_seconds: float = 15.0
    # Waits before each attempt, comma-separated seconds; empty means the schedule in design.md.
    webhook_retry_delays: Annotated[list[float], NoDecode] = Field(default_factory=list)
    webhook_retry_jitter: float = 0.1
    # A claimed delivery is leased for the timeout plus this margin; a worker that dies mid-delivery
    # leaves it to another worker once the lease runs out.
    webhook_lease_margin_seconds: float = 15.0
    # How many deliveries one worker sends at once, and how often it looks for work when not woken.
    worker_concurrency: int = Field(default=16, ge=1, le=1024)
    worker_poll_seconds: float = Field(default=0.2, gt=0)
    # A claimed job stays leased to its worker this long; a worker that dies leaves it to another after.
    job_lease_seconds: float = Field(default=300.0, gt=0)

    @field_validator("trusted_proxies", "webhook_retry_delays", "encryption_key", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'portal.db').resolve()}"

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, or one generated on first use and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key

    @property
    def encryption_key_file(self) -> Path:
        return self.data_dir / ENCRYPTION_KEY_FILE

    @cached_property
    def effective_encryption_keys(self) -> list[str]:
        """The configured keys, or those kept in the data directory (one per line, the first encrypts),
        made on first use."""
        if self.encryption_key:
            return list(self.encryption_key)
        path = self.encryption_key_file
        if path.exists():
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        from portal.kit.encryption import new_key

        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = new_key()
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return [key]


def load_settings() -> Settings:
    return Settings()
