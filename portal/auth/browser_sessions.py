"""Server-side sessions of the web console: the browser holds an opaque cookie, the database its SHA-256.

Signing out deletes the row, so a copied cookie is worthless afterwards. A session ends after
`browser_session_idle_seconds` without a request, and in any case `browser_session_absolute_seconds`
after sign-in. What the session's user may do is read live (`auth.service.user_actor`), so a role change
or a disabled account takes effect on the next page.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, TenantOwned
from portal.kit.ids import new_id
from portal.kit.secret_tokens import new_secret_token, secret_digest
from portal.kit.tenancy import scoped


class BrowserSession(TenantOwned, Base):
    __tablename__ = "browser_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]


class BrowserSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(
        self, tenant_id: str, user_id: str, now: datetime, expires_at: datetime, absolute: datetime
    ) -> str:
        token, token_hash = new_secret_token()
        self.session.add(
            BrowserSession(
                tenant_id=tenant_id,
                user_id=user_id,
                token_hash=token_hash,
                created_at=now,
                expires_at=min(expires_at, absolute),
                absolute_expires_at=absolute,
            )
        )
        await self.session.flush()
        return token

    async def by_token(self, tenant_id: str, token: str) -> BrowserSession | None:
        statement = scoped(select(BrowserSession), BrowserSession, tenant_id).where(
            BrowserSession.token_hash == secret_digest(token)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def extend(self, row: BrowserSession, expires_at: datetime) -> None:
        await self.session.execute(
            scoped(update(BrowserSession), BrowserSession, row.tenant_id)
            .where(BrowserSession.id == row.id)
            .values(expires_at=min(expires_at, row.absolute_expires_at))
            .execution_options(synchronize_session=False)
        )

    async def end(self, tenant_id: str, token: str) -> bool:
        """Deletes the session; False when there was none (already ended)."""
        result = await self.session.execute(
            scoped(delete(BrowserSession), BrowserSession, tenant_id)
            .where(BrowserSession.token_hash == secret_digest(token))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def end_for_user(self, tenant_id: str, user_id: str) -> None:
        await self.session.execute(
            scoped(delete(BrowserSession), BrowserSession, tenant_id)
            .where(BrowserSession.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
