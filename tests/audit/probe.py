"""Reading the audit log as it is stored, for tests: every event, or those written since a mark."""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.kit.tenancy import across_tenants
from portal.runtime import Runtime


async def all_events(runtime: Runtime) -> list[AuditEvent]:
    async with runtime.db.sessions() as session:
        statement = across_tenants(select(AuditEvent)).order_by(AuditEvent.occurred_at, AuditEvent.id)
        return list((await session.execute(statement)).scalars())


class AuditProbe:
    """`mark()` before an act, `since_mark()` after it: the events the act wrote."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._seen: set[str] = set()

    async def mark(self) -> None:
        self._seen = {event.id for event in await all_events(self.runtime)}

    async def since_mark(self) -> list[AuditEvent]:
        return [event for event in await all_events(self.runtime) if event.id not in self._seen]
