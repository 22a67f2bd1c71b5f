"""Every event's payload model, and the OpenAPI 3.1 `webhooks` section generated from them: the models
the services build are the ones the document describes."""

import inspect
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Response
from pydantic import BaseModel, Field, create_model

from portal.catalog.events import ImageVersionPublished
from portal.events import EventPayload, EventType
from portal.requests.events import FeatureRequestCreated, FeatureRequestUpdated
from portal.scanning.events import ScanCompleted
from portal.vex.events import VexPublished
from portal.watches.events import CveWatchMatched, CveWatchResolved
from portal.webhooks.events import WebhookTest

EVENT_PAYLOADS: dict[EventType, type[EventPayload]] = {
    payload.event_type: payload
    for payload in (
        ImageVersionPublished,
        ScanCompleted,
        CveWatchMatched,
        CveWatchResolved,
        VexPublished,
        FeatureRequestCreated,
        FeatureRequestUpdated,
        WebhookTest,
    )
}

_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The message id: the same for every attempt and redelivery. Process each id once.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in seconds since the Unix epoch.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` (two during a "
        "secret rotation). See docs/webhooks.md, Verifying a delivery.",
        "schema": {"type": "string"},
    },
]


def message_model(payload: type[EventPayload]) -> type[BaseModel]:
    """The body of a delivery: `{type, timestamp, data}`."""
    event_type = payload.event_type.value
    return create_model(
        payload.__name__ + "Message",
        type=(Literal[event_type], Field(description="The event type.")),  # type: ignore[arg-type]
        timestamp=(datetime, Field(description="When the event happened, RFC 3339 UTC.")),
        data=(payload, ...),
    )


def document_webhooks(app: FastAPI) -> None:
    for event_type, payload in EVENT_PAYLOADS.items():
        app.webhooks.add_api_route(
            event_type.value,
            _receiver(message_model(payload)),
            methods=["POST"],
            summary=event_type.value,
            description=inspect.getdoc(payload) or "",
            operation_id="on_" + event_type.value.replace(".", "_"),
            response_class=Response,
            response_description="Accepted: answer any 2xx within 15 seconds; anything else is retried.",
            openapi_extra={"parameters": _HEADERS},
        )


def _receiver(message: type[BaseModel]) -> Any:
    """An endpoint that only carries the signature FastAPI documents; no request ever reaches it."""

    async def receive(body: Any) -> None:
        return None

    receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=message)]
    )
    return receive
