"""Activation tokens: how a user an admin added sets a first password.

`pta_` and 32 random bytes, valid 72 hours, spent by its first use; only a SHA-256 digest is stored
(`portal.kit.secret_tokens`).
"""

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantOwned
from portal.kit.ids import new_id
from portal.kit.tenancy import scoped

ACTIVATION_PREFIX = "pta_"
ACTIVATION_LIFETIME = timedelta(hours=72)


class UserActivation(TenantOwned, Base):
    __tablename__ = "user_activations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ActivationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, activation: UserActivation) -> None:
        self.session.add(activation)

    async def spend(self, tenant_id: str, token_hash: str, now: datetime) -> str | None:
        """Marks the token used if it is still good and returns its user's id; None otherwise. One
        conditional UPDATE: of two requests presenting the same token at once, only one gets the user."""
        statement = (
            scoped(update(UserActivation), UserActivation, tenant_id)
            .where(
                UserActivation.token_hash == token_hash,
                UserActivation.used_at.is_(None),
                UserActivation.expires_at > now,
            )
            .values(used_at=now)
            .returning(UserActivation.user_id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def withdraw_for_user(self, tenant_id: str, user_id: str, now: datetime) -> None:
        """Spends every open token of the user: a new invitation replaces the old ones."""
        statement = (
            scoped(update(UserActivation), UserActivation, tenant_id)
            .where(UserActivation.user_id == user_id, UserActivation.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(statement)
