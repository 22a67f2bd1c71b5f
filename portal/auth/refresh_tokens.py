"""Opaque refresh tokens, stored only as SHA-256 hashes, rotated on every use, grouped in families."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ForeignKey, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantOwned
from portal.kit.ids import new_id
from portal.kit.secret_tokens import new_secret_token
from portal.kit.tenancy import scoped


class RefreshToken(TenantOwned, Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, tenant_id: str, token_hash: str) -> RefreshToken | None:
        statement = scoped(select(RefreshToken), RefreshToken, tenant_id).where(
            RefreshToken.token_hash == token_hash
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def issue(
        self,
        *,
        tenant_id: str,
        user_id: str,
        family_id: str,
        now: datetime,
        idle: timedelta,
        absolute_expires_at: datetime,
    ) -> str:
        token, token_hash = new_secret_token()
        self.session.add(
            RefreshToken(
                tenant_id=tenant_id,
                user_id=user_id,
                family_id=family_id,
                token_hash=token_hash,
                created_at=now,
                expires_at=min(now + idle, absolute_expires_at),
                absolute_expires_at=absolute_expires_at,
            )
        )
        await self.session.flush()
        return token

    async def mark_rotated(self, token: RefreshToken, now: datetime) -> bool:
        """Claims the token for one rotation; False when a concurrent request got there first."""
        result = await self.session.execute(
            scoped(update(RefreshToken), RefreshToken, token.tenant_id)
            .where(
                RefreshToken.id == token.id,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(rotated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def revoke_family(self, tenant_id: str, family_id: str, now: datetime) -> None:
        await self._revoke(tenant_id, RefreshToken.family_id == family_id, now)

    async def revoke_for_user(self, tenant_id: str, user_id: str, now: datetime) -> None:
        await self._revoke(tenant_id, RefreshToken.user_id == user_id, now)

    async def _revoke(self, tenant_id: str, which: ColumnElement[bool], now: datetime) -> None:
        await self.session.execute(
            scoped(update(RefreshToken), RefreshToken, tenant_id)
            .where(which, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
