"""The base of every event's data. Each feature declares the payloads of the events it causes
(`catalog/events.py`, `scanning/events.py`, ...), builds them in its services and hands them to
`record_event`; the webhooks feature publishes the same models in the OpenAPI `webhooks` section."""

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from portal.events.catalog import EventType
from portal.kit.clock import rfc3339

# RFC 3339 in UTC with a `Z`, as every timestamp the portal writes.
Rfc3339 = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class EventPayload(BaseModel):
    """An event's `data`, camelCase on the wire. Receivers ignore fields they do not know."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    event_type: ClassVar[EventType]

    def data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
