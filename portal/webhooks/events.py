"""The event the webhooks feature causes itself."""

from typing import ClassVar

from portal.events import EventPayload, EventType


class WebhookTest(EventPayload):
    """Sent by `POST /api/webhooks/{id}/test`, to that subscription only, whatever its `events`."""

    event_type: ClassVar[EventType] = EventType.WEBHOOK_TEST

    webhook_id: str
    message: str
