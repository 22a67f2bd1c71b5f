from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import scoped
from portal.tenants.models import Tenant
from portal.users.models import Role, User

USER_ORDER = Keyset(BY_TIME, (User.created_at, User.id))


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, tenant_id: str, email: str) -> User | None:
        statement = scoped(select(User), User, tenant_id).where(User.email == email)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_id(self, tenant_id: str, user_id: str) -> User | None:
        statement = scoped(select(User), User, tenant_id).where(User.id == user_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def with_tenant(self, tenant_id: str, user_id: str) -> tuple[User, Tenant] | None:
        statement = scoped(select(User, Tenant), User, tenant_id).join(Tenant, Tenant.id == User.tenant_id)
        row = (await self.session.execute(statement.where(User.id == user_id))).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def page(self, tenant_id: str, page: PageParams) -> Slice[User]:
        """Oldest first."""
        return await paginate_scalars(self.session, scoped(select(User), User, tenant_id), USER_ORDER, page)

    async def lock_admins(self, tenant_id: str) -> None:
        """Takes the tenant's lock on who its admins are, until the transaction ends: a write to the
        tenant's row, which PostgreSQL locks for that row and SQLite for the database. Run it first in
        the transaction (on SQLite, before any read), so what is read after it is what others committed."""
        await self.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(slug=Tenant.slug))

    async def count_active_admins(self, tenant_id: str, *, excluding: str) -> int:
        statement = scoped(select(func.count(User.id)), User, tenant_id).where(
            User.role == Role.ADMIN.value,
            User.active.is_(True),
            User.password_hash.is_not(None),
            User.id != excluding,
        )
        return int((await self.session.execute(statement)).scalar_one())

    def add(self, user: User) -> None:
        self.session.add(user)
