"""Ending every session of a user: what a change that weakens the user (`portal.users`) asks of auth.

Apart from `portal.auth.service`, which itself asks the users feature who signs in."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.browser_sessions import BrowserSessionRepository
from portal.auth.refresh_tokens import RefreshTokenRepository


async def end_user_sessions(session: AsyncSession, tenant_id: str, user_id: str, now: datetime) -> None:
    """Revokes the user's refresh tokens and ends its web console sessions (its access tokens and API keys
    follow through the identity cache)."""
    await RefreshTokenRepository(session).revoke_for_user(tenant_id, user_id, now)
    await BrowserSessionRepository(session).end_for_user(tenant_id, user_id)
