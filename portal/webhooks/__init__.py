"""Webhooks: signed deliveries to tenants' endpoints (Standard Webhooks)."""

from portal.webhooks.schedule import DEFAULT_SCHEDULE, RetrySchedule, next_attempt_delay
from portal.webhooks.sending import AttemptResult, send
from portal.webhooks.signing import new_secret, sign
from portal.webhooks.targets import TargetRefused, build_client, check_url, resolve_public

__all__ = [
    "DEFAULT_SCHEDULE",
    "AttemptResult",
    "RetrySchedule",
    "TargetRefused",
    "build_client",
    "check_url",
    "new_secret",
    "next_attempt_delay",
    "resolve_public",
    "send",
    "sign",
]
