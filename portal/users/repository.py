from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.tenancy import scoped
from portal.users.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, tenant_id: str, email: str) -> User | None:
        statement = scoped(select(User), User, tenant_id).where(User.email == email)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_id(self, tenant_id: str, user_id: str) -> User | None:
        statement = scoped(select(User), User, tenant_id).where(User.id == user_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def list(self, tenant_id: str) -> list[User]:
        statement = scoped(select(User), User, tenant_id).order_by(User.email)
        return list((await self.session.execute(statement)).scalars())

    def add(self, user: User) -> None:
        self.session.add(user)
