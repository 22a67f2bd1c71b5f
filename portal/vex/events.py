"""What vendor VEX statements tell tenants' webhooks."""

from typing import ClassVar

from pydantic import Field

from portal.events import EventPayload, EventType, Rfc3339


class VexStatementSummary(EventPayload):
    statement_id: str
    vulnerability: str = Field(description="The vulnerability as the statement names it.")
    status: str = Field(description="not_affected, affected, fixed or under_investigation.")
    justification: str | None
    statement: str | None = Field(description="The impact statement.")
    action: str | None = Field(description="The action statement.")
    timestamp: Rfc3339 = Field(description="When the vendor made the statement.")


class VexPublished(EventPayload):
    """The vendor published VEX statements that now speak for findings of an image version you are
    entitled to (one event per image version). `suppressed` counts the findings of its latest scan they
    take out (not_affected, fixed); the findings, summaries and CVE watches show it at once."""

    event_type: ClassVar[EventType] = EventType.VEX_PUBLISHED

    image_id: str
    image_name: str
    version_id: str
    statements: list[VexStatementSummary]
    suppressed: int
