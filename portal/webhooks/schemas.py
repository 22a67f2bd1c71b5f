from datetime import datetime
from typing import Annotated

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from portal.events import EventType
from portal.kit.schema import ApiInput, ApiModel
from portal.webhooks.models import AttemptTrigger, DeliveryStatus

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
    active: bool = True


class SubscriptionUpdate(ApiInput):
    """Any subset of the fields; those left out stay as they are."""

    # Present-but-null is refused by the service for these three; SkipJsonSchema keeps null out of OpenAPI.
    url: WebhookUrl | SkipJsonSchema[None] = None
    events: EventList | SkipJsonSchema[None] = None
    description: Description | None = None
    active: bool | SkipJsonSchema[None] = None


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
