"""Standard Webhooks signatures (https://www.standardwebhooks.com/) for outgoing deliveries."""

import base64
import functools
import math
import secrets as _random
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(32)).decode("ascii")


@functools.lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    # Building a Webhook decodes the secret; a worker signs many deliveries with the same few secrets.
    return Webhook(secret)


def sign(secrets: Sequence[str], msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, with one `v1,` signature per secret.

    During a rotation the caller passes the new and the old secret; a receiver that knows either accepts.
    """
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    if not msg_id or not msg_id.isascii() or not msg_id.isprintable() or " " in msg_id:
        raise ValueError("msg_id must be non-empty printable ASCII without spaces")
    if timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    # The library replaces (not converts) the zone with UTC, which would shift a non-UTC time.
    timestamp = timestamp.astimezone(UTC)
    # The library signs text; a body that is not UTF-8 could not be verified by its receivers either.
    text = body.decode("utf-8")
    signatures: list[str] = []
    for secret in dict.fromkeys(secrets):
        signatures.append(_webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=text))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
