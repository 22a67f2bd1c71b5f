from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.tenancy import across_tenants, scoped
from portal.requests.models import FeatureRequest, FeatureRequestChange, RequestStatus, RequestType
from portal.tenants.models import Tenant

RequestRow = tuple[FeatureRequest, Tenant]


def _with_tenant() -> Select[FeatureRequest, Tenant]:
    return select(FeatureRequest, Tenant).join(Tenant, Tenant.id == FeatureRequest.tenant_id)


class FeatureRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)

    async def get(self, tenant_id: str, request_id: str) -> RequestRow | None:
        statement = scoped(_with_tenant(), FeatureRequest, tenant_id).where(FeatureRequest.id == request_id)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def get_any_tenant(self, request_id: str) -> RequestRow | None:
        statement = across_tenants(_with_tenant()).where(FeatureRequest.id == request_id)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def open_for_package(self, tenant_id: str, package_key: str) -> RequestRow | None:
        statement = scoped(_with_tenant(), FeatureRequest, tenant_id).where(
            FeatureRequest.open_package_key == package_key
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def page(
        self,
        tenant_id: str | None,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        status: RequestStatus | None,
        type: RequestType | None,
    ) -> list[RequestRow]:
        """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
        statement = _with_tenant()
        statement = (
            scoped(statement, FeatureRequest, tenant_id)
            if tenant_id is not None
            else across_tenants(statement)
        )
        if status is not None:
            statement = statement.where(FeatureRequest.status == status)
        if type is not None:
            statement = statement.where(FeatureRequest.type == type)
        if after is not None:
            created_at, request_id = after
            statement = statement.where(
                or_(
                    FeatureRequest.created_at < created_at,
                    and_(FeatureRequest.created_at == created_at, FeatureRequest.id < request_id),
                )
            )
        statement = statement.order_by(FeatureRequest.created_at.desc(), FeatureRequest.id.desc()).limit(
            limit
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def history(
        self, tenant_id: str | None, request_ids: Sequence[str]
    ) -> dict[str, list[FeatureRequestChange]]:
        """Each request's changes, oldest first; `tenant_id` None is the operator reading any tenant's."""
        if not request_ids:
            return {}
        statement = select(FeatureRequestChange)
        statement = (
            scoped(statement, FeatureRequestChange, tenant_id)
            if tenant_id is not None
            else across_tenants(statement)
        )
        statement = statement.where(FeatureRequestChange.request_id.in_(request_ids)).order_by(
            FeatureRequestChange.at, FeatureRequestChange.id
        )
        changes: dict[str, list[FeatureRequestChange]] = {request_id: [] for request_id in request_ids}
        for change in (await self.session.execute(statement)).scalars():
            changes[change.request_id].append(change)
        return changes
