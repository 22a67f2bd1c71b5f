from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.apikeys.models import ApiKey
from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import across_tenants, scoped
from portal.tenants.models import Tenant
from portal.users.models import User

KEY_ORDER = Keyset(BY_TIME, (ApiKey.created_at, ApiKey.id), descending=True)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    async def by_id(self, tenant_id: str, key_id: str) -> ApiKey | None:
        statement = scoped(select(ApiKey), ApiKey, tenant_id).where(ApiKey.id == key_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_prefix(self, tenant_id: str, prefix: str) -> list[ApiKey]:
        statement = scoped(select(ApiKey), ApiKey, tenant_id).where(ApiKey.prefix == prefix)
        return list((await self.session.execute(statement)).scalars())

    async def page(self, tenant_id: str, page: PageParams) -> Slice[ApiKey]:
        """Newest first."""
        return await paginate_scalars(
            self.session, scoped(select(ApiKey), ApiKey, tenant_id), KEY_ORDER, page
        )

    async def owned_by(self, tenant_id: str, owner_id: str) -> list[ApiKey]:
        statement = scoped(select(ApiKey), ApiKey, tenant_id).where(ApiKey.owner_id == owner_id)
        return list((await self.session.execute(statement)).scalars())

    async def with_owner_by_digest(self, secret_hash: str) -> tuple[ApiKey, User, Tenant] | None:
        """The key a presented secret names, whatever its tenant: finding out is the authentication
        itself; the caller then checks the tenant the request names."""
        statement = across_tenants(
            select(ApiKey, User, Tenant)
            .join(User, User.id == ApiKey.owner_id)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.secret_hash == secret_hash)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def note_use(self, tenant_id: str, key_id: str, now: datetime, ip: str | None) -> bool:
        """Records when and from where the key was used; True when this was its first use (once, however
        many processes see the first requests at the same moment)."""
        first = scoped(update(ApiKey), ApiKey, tenant_id).where(
            ApiKey.id == key_id, ApiKey.last_used_at.is_(None)
        )
        result = await self.session.execute(
            first.values(last_used_at=now, last_used_ip=ip).execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount:
            return True
        later = scoped(update(ApiKey), ApiKey, tenant_id).where(ApiKey.id == key_id)
        await self.session.execute(
            later.values(last_used_at=now, last_used_ip=ip).execution_options(synchronize_session=False)
        )
        return False
