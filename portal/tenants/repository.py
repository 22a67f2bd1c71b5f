from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.tenants.models import Tenant


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_slug(self, slug: str) -> Tenant | None:
        result = await self.session.execute(select(Tenant).where(Tenant.slug == slug))
        return result.scalar_one_or_none()

    async def by_id(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def all(self) -> list[Tenant]:
        result = await self.session.execute(select(Tenant).order_by(Tenant.slug))
        return list(result.scalars())

    def add(self, tenant: Tenant) -> None:
        self.session.add(tenant)
