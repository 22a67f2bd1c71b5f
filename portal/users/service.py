"""Operator use cases on users. Any change that weakens a user revokes its refresh tokens and ends its
web console sessions."""

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.auth.browser_sessions import BrowserSessionRepository
from portal.auth.refresh_tokens import RefreshTokenRepository
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.runtime import Runtime
from portal.users.models import Role, User
from portal.users.repository import UserRepository

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email or len(email) > 320:
        raise ValidationFailed(f"{email!r} is not an email address.")
    return email


class UserService:
    """Users of the actor's tenant: the operator acts `within` one, a tenant admin in its own."""

    def __init__(self, session: AsyncSession, runtime: Runtime) -> None:
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.browser_sessions = BrowserSessionRepository(session)
        self.runtime = runtime
        self.hasher = runtime.hasher
        self.clock = runtime.clock

    async def create(self, actor: Actor, email: str, role: Role, password: str) -> User:
        email = normalize_email(email)
        check_password_strength(password)
        tenant = actor.acting_tenant
        if await self.users.by_email(tenant.id, email) is not None:
            raise Conflict(f"User {email} already exists in tenant {tenant.slug}.")
        now = self.clock()
        user = User(
            tenant_id=tenant.id,
            email=email,
            role=role,
            password_hash=await self.hasher.hash(password),
            active=True,
            created_at=now,
            updated_at=now,
        )
        self.users.add(user)
        await self.users.session.flush()
        self._audit(actor, AuditAction.USER_CREATED, user, {"role": role.value})
        return user

    async def get(self, actor: Actor, email: str) -> User:
        tenant = actor.acting_tenant
        user = await self.users.by_email(tenant.id, normalize_email(email))
        if user is None:
            raise NotFound(f"No user {email} in tenant {tenant.slug}.")
        return user

    async def list(self, tenant_id: str) -> list[User]:
        return await self.users.list(tenant_id)

    async def set_active(self, actor: Actor, email: str, active: bool) -> User:
        user = await self.get(actor, email)
        user.active = active
        await self._changed(user, revoke=not active)
        self._audit(actor, AuditAction.USER_UPDATED, user, {"active": active})
        return user

    async def set_role(self, actor: Actor, email: str, role: Role) -> User:
        user = await self.get(actor, email)
        user.role = role
        await self._changed(user, revoke=True)
        self._audit(actor, AuditAction.USER_UPDATED, user, {"role": role.value})
        return user

    async def set_password(self, actor: Actor, email: str, password: str) -> User:
        check_password_strength(password)
        user = await self.get(actor, email)
        user.password_hash = await self.hasher.hash(password)
        await self._changed(user, revoke=True)
        self._audit(actor, AuditAction.USER_PASSWORD_SET, user)
        return user

    def _audit(
        self, actor: Actor, action: AuditAction, user: User, details: dict[str, str | bool] | None = None
    ) -> None:
        record_audit(
            self.users.session,
            actor,
            action,
            AuditTarget("user", user.id, user.email),
            details=details,
            clock=self.clock,
        )

    async def _changed(self, user: User, *, revoke: bool) -> None:
        user.updated_at = self.clock()
        if revoke:
            await self.refresh_tokens.revoke_for_user(user.tenant_id, user.id, self.clock())
            await self.browser_sessions.end_for_user(user.tenant_id, user.id)
        self.runtime.identities.forget_user(user.id)
        await self.users.session.flush()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password may have at most {MAX_PASSWORD_LENGTH} characters.")
