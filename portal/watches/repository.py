from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import across_tenants, scoped
from portal.watches.models import CveWatch

WATCH_ORDER = Keyset(BY_TIME, (CveWatch.created_at, CveWatch.id), descending=True)


class WatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, watch: CveWatch) -> None:
        self.session.add(watch)

    async def delete(self, watch: CveWatch) -> None:
        await self.session.delete(watch)

    async def by_id(self, tenant_id: str, watch_id: str) -> CveWatch | None:
        statement = scoped(select(CveWatch), CveWatch, tenant_id).where(CveWatch.id == watch_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_cve(self, tenant_id: str, cve_id: str) -> CveWatch | None:
        statement = scoped(select(CveWatch), CveWatch, tenant_id).where(CveWatch.cve_id == cve_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def page(self, tenant_id: str, page: PageParams) -> Slice[CveWatch]:
        """Newest first."""
        statement = scoped(select(CveWatch), CveWatch, tenant_id)
        return await paginate_scalars(self.session, statement, WATCH_ORDER, page)

    async def all_by_tenant(self) -> dict[str, list[CveWatch]]:
        """Every tenant's watches: a scan checks each of them (the operator's cross-tenant read)."""
        statement = across_tenants(select(CveWatch).order_by(CveWatch.tenant_id, CveWatch.cve_id))
        found: dict[str, list[CveWatch]] = {}
        for watch in (await self.session.execute(statement)).scalars():
            found.setdefault(watch.tenant_id, []).append(watch)
        return found
