"""The outbox: events written in the same transaction as the change that caused them.

Features call `record_event`; the webhooks worker reads the outbox and delivers. A rollback drops the
event with the change, and a crash after commit loses nothing.
"""

from portal.events.catalog import EVENT_TYPES, EventType
from portal.events.models import OutboxEvent
from portal.events.payloads import EventPayload, Rfc3339
from portal.events.service import record_event

__all__ = ["EVENT_TYPES", "EventPayload", "EventType", "OutboxEvent", "Rfc3339", "record_event"]
