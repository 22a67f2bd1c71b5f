from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StrictBool
from pydantic.json_schema import SkipJsonSchema

from portal.events import EventType
from portal.kit.schema import ApiInput, ApiModel
from portal.webhooks.models import AttemptTrigger, DeliveryStatus

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The last label starts with a letter, as top-level domains do: so no host is an IPv4 literal.
_HOST = rf"(?:{_LABEL}\.){{0,8}}[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_PORT = r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
_REST = r"(?:[/?#][!-~]*)?"


def webhook_url_pattern(allow_private: bool) -> str:
    """The URLs a subscription may name, as the OpenAPI document states them: https and a host name;
    the development setting adds http and address literals. The service checks the same and more
    (`targets.check_url`), and every delivery checks the addresses again."""
    if allow_private:
        return rf"^https?://(?:{_HOST}|{_IPV4}){_PORT}{_REST}$"
    return rf"^https://{_HOST}{_PORT}{_REST}$"


def document_webhook_urls(schema: dict[str, Any], allow_private: bool) -> None:
    for model in (SubscriptionCreate, SubscriptionUpdate):
        url = schema["components"]["schemas"][model.__name__]["properties"]["url"]
        url["pattern"] = webhook_url_pattern(allow_private)


WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="https URL on a public address (the operator may allow http and private addresses).",
        examples=["https://hooks.example.com/portal"],
    ),
]
EventList = Annotated[
    list[EventType],
    Field(
        min_length=1,
        max_length=len(EventType),
        json_schema_extra={"uniqueItems": True},
        description="The event types to deliver; each at most once.",
    ),
]
Description = Annotated[str, Field(max_length=500)]


class SubscriptionCreate(ApiInput):
    url: WebhookUrl
    events: EventList
    description: Description | None = None
    active: StrictBool = True


class SubscriptionUpdate(ApiInput):
    """Any subset of the fields; those left out stay as they are."""

    # Present-but-null is refused by the service for these three; SkipJsonSchema keeps null out of OpenAPI.
    url: WebhookUrl | SkipJsonSchema[None] = None
    events: EventList | SkipJsonSchema[None] = None
    description: Description | None = None
    active: StrictBool | SkipJsonSchema[None] = None


class SubscriptionOut(ApiModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None = Field(
        description="Why the portal disabled it (e.g. the receiver said 410)."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="The signing secret. Shown only here: store it now.")


class AttemptOut(ApiModel):
    at: datetime
    trigger: AttemptTrigger
    http_status: int | None
    latency_ms: int
    error: str | None = Field(description="Why the attempt failed; null when it succeeded.")
    response_body: str = Field(description="The first 4 KiB of the receiver's answer.")


class DeliveryOut(ApiModel):
    id: str
    event_type: str
    webhook_id: str = Field(description="The `webhook-id` header: the same for every attempt and redelivery.")
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptOut]
