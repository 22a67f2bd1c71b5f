from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_rows
from portal.kit.tenancy import across_tenants, scoped
from portal.requests.models import FeatureRequest, FeatureRequestChange, RequestStatus, RequestType
from portal.tenants.models import Tenant

RequestRow = tuple[FeatureRequest, Tenant]

REQUEST_ORDER = Keyset(BY_TIME, (FeatureRequest.created_at, FeatureRequest.id), descending=True)


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
        page: PageParams,
        *,
        status: RequestStatus | None,
        type: RequestType | None,
    ) -> Slice[RequestRow]:
        """Newest first."""
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
        found = await paginate_rows(self.session, statement, REQUEST_ORDER, page)
        return found.map(lambda row: (row[0], row[1]))

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
