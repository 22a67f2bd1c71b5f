from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.models import AuditEvent
from portal.audit.schemas import AuditFilter
from portal.auth.actor import ActorType
from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import across_tenants, scoped

AUDIT_ORDER = Keyset(BY_TIME, (AuditEvent.occurred_at, AuditEvent.id), descending=True)


def _filtered(statement: Select[Any], found: AuditFilter) -> Select[Any]:
    if found.actor is not None:
        if found.actor == ActorType.OPERATOR.value:
            statement = statement.where(AuditEvent.actor_type == ActorType.OPERATOR.value)
        else:
            statement = statement.where(
                or_(AuditEvent.actor_id == found.actor, AuditEvent.actor_email == found.actor.lower())
            )
    if found.action is not None:
        statement = statement.where(AuditEvent.action == found.action)
    if found.target_id is not None:
        statement = statement.where(AuditEvent.target_id == found.target_id)
    if found.since is not None:
        statement = statement.where(AuditEvent.occurred_at >= found.since)
    if found.until is not None:
        statement = statement.where(AuditEvent.occurred_at < found.until)
    return statement


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, tenant_id: str | None, found: AuditFilter, page: PageParams) -> Slice[AuditEvent]:
        statement = (
            across_tenants(select(AuditEvent))
            if tenant_id is None
            else scoped(select(AuditEvent), AuditEvent, tenant_id)
        )
        return await paginate_scalars(self.session, _filtered(statement, found), AUDIT_ORDER, page)

    async def delete_before(self, before: datetime) -> int:
        """The retention job's one deletion, across every tenant."""
        statement = across_tenants(delete(AuditEvent).where(AuditEvent.occurred_at < before))
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
