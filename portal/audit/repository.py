from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.models import AuditEvent
from portal.auth.actor import ActorType
from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import across_tenants, scoped

AUDIT_ORDER = Keyset(BY_TIME, (AuditEvent.occurred_at, AuditEvent.id), descending=True)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """`actor`: a user's or key's id, a user's email, or `operator`; times are inclusive from `since`,
    exclusive at `until`."""

    actor: str | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.actor is not None:
            if self.actor == ActorType.OPERATOR.value:
                statement = statement.where(AuditEvent.actor_type == ActorType.OPERATOR.value)
            else:
                statement = statement.where(
                    or_(AuditEvent.actor_id == self.actor, AuditEvent.actor_email == self.actor.lower())
                )
        if self.action is not None:
            statement = statement.where(AuditEvent.action == self.action)
        if self.target_id is not None:
            statement = statement.where(AuditEvent.target_id == self.target_id)
        if self.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            statement = statement.where(AuditEvent.occurred_at < self.until)
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
        return await paginate_scalars(self.session, found.apply(statement), AUDIT_ORDER, page)

    async def delete_before(self, before: datetime) -> int:
        """The retention job's one deletion, across every tenant."""
        statement = across_tenants(delete(AuditEvent).where(AuditEvent.occurred_at < before))
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
