"""Users of a tenant: the operator's commands and the tenant admins' own management.

Any change that weakens a user (disabling it, changing its role or password) revokes its refresh tokens,
ends its web console sessions and is seen at once by this process's identity cache (its access tokens
and API keys follow).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor, ActorType, Origin
from portal.auth.sessions import end_user_sessions
from portal.errors import Conflict, Forbidden, InvalidActivationToken, NotFound, ValidationFailed
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import IDENTITIES, changed
from portal.kit.secret_tokens import new_secret_token, secret_digest
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.tenants.service import TenantService
from portal.users.activation import (
    ACTIVATION_LIFETIME,
    ACTIVATION_PREFIX,
    ActivationRepository,
    UserActivation,
)
from portal.users.models import Role, User
from portal.users.repository import UserRepository

if TYPE_CHECKING:
    from portal.auth.passwords import PasswordHasher

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or not domain or " " in email or len(email) > 320:
        raise ValidationFailed(f"{email!r} is not an email address.")
    return email


@dataclass(frozen=True, slots=True)
class Invitation:
    user: User
    created: bool
    # Handed over by the admin (no e-mail is sent); shown this once, stored as a digest.
    token: str
    expires_at: datetime


class UserService:
    """Users of the actor's tenant: the operator acts `within` one, a tenant admin in its own."""

    def __init__(self, session: AsyncSession, runtime: Runtime) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.activations = ActivationRepository(session)
        self.runtime = runtime
        self.clock = runtime.clock

    @property
    def hasher(self) -> "PasswordHasher":
        # Made on first use: listing users hashes nothing, and argon2 is a command's start-up.
        return self.runtime.hasher

    async def create(self, actor: Actor, email: str, role: Role, password: str) -> User:
        """The operator's way: a user with a password, active at once."""
        email = normalize_email(email)
        check_password_strength(password)
        tenant = actor.acting_tenant
        if await self.users.by_email(tenant.id, email) is not None:
            raise Conflict(f"User {email} already exists in tenant {tenant.slug}.")
        user = self._new_user(tenant.id, email, role, await self.hasher.hash(password))
        self.users.add(user)
        await self.session.flush()
        self._audit(actor, AuditAction.USER_CREATED, user, {"role": role.value})
        return user

    async def invite(self, actor: Actor, email: str, role: Role) -> Invitation:
        """A tenant admin's way: a user without a password yet, and a one-time activation token valid 72
        hours with which the user sets one. Inviting a user who has not activated yet again replaces the
        token (and sets the role); a user who has is a conflict."""
        email = normalize_email(email)
        if role.rank > actor.role.rank:
            raise Forbidden(f"You may not give a role above your own ({actor.role.value}).")
        tenant_id = actor.tenant_id
        now = self.clock()
        user = await self.users.by_email(tenant_id, email)
        created = user is None
        if user is None:
            user = self._new_user(tenant_id, email, role, None)
            self.users.add(user)
            await self.session.flush()
        elif user.password_hash is not None:
            raise Conflict(f"User {email} already exists and has activated the account.")
        else:
            user.role = role
            user.updated_at = now
            await self.activations.withdraw_for_user(tenant_id, user.id, now)
        token, token_hash = new_secret_token(ACTIVATION_PREFIX)
        expires_at = now + ACTIVATION_LIFETIME
        self.activations.add(
            UserActivation(
                tenant_id=tenant_id,
                user_id=user.id,
                token_hash=token_hash,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
            )
        )
        await self.session.flush()
        action = AuditAction.USER_CREATED if created else AuditAction.USER_REINVITED
        self._audit(actor, action, user, {"role": role.value, "invited": True})
        return Invitation(user, created, token, expires_at)

    async def activate(self, tenant_slug: str, token: str, password: str, origin: Origin) -> User:
        """Spends the token and sets the user's first password. The password is checked before the
        token is spent, so a refused password leaves the token usable."""
        check_password_strength(password)
        # Hashed before the token is spent: the slow hash runs outside the write that follows.
        password_hash = await self.hasher.hash(password)
        tenant = await TenantService(self.session, self.clock).find(tenant_slug)
        now = self.clock()
        user_id = None
        if tenant is not None:
            user_id = await self.activations.spend(tenant.id, secret_digest(token), now)
        user = await self.users.by_id(tenant.id, user_id) if tenant is not None and user_id else None
        if tenant is None or user is None:
            raise InvalidActivationToken()
        user.password_hash = password_hash
        await self._changed(user, revoke=False)
        actor = Actor.user(user.id, user.email, Role(user.role), tenant.ref, origin)
        self._audit(actor, AuditAction.ACCOUNT_ACTIVATED, user)
        return user

    async def get(self, actor: Actor, email: str) -> User:
        tenant = actor.acting_tenant
        user = await self.users.by_email(tenant.id, normalize_email(email))
        if user is None:
            raise NotFound(f"No user {email} in tenant {tenant.slug}.")
        return user

    # For other features: a tenant's user by address or id, None when there is none.

    async def by_email(self, tenant_id: str, email: str) -> User | None:
        """`email` as `normalize_email` leaves it."""
        return await self.users.by_email(tenant_id, email)

    async def by_id(self, tenant_id: str, user_id: str) -> User | None:
        return await self.users.by_id(tenant_id, user_id)

    async def with_tenant(self, tenant_id: str, user_id: str) -> tuple[User, Tenant] | None:
        return await self.users.with_tenant(tenant_id, user_id)

    async def page(self, tenant_id: str, page: PageParams) -> Slice[User]:
        return await self.users.page(tenant_id, page)

    async def update(self, actor: Actor, user_id: str, role: Role | None, active: bool | None) -> User:
        """A tenant admin changes a user's role or active state (`None`: leave it)."""
        await self.users.lock_admins(actor.tenant_id)
        user = await self.users.by_id(actor.tenant_id, user_id)
        if user is None:
            raise NotFound("No such user.")
        if role is not None and role.rank > actor.role.rank:
            raise Forbidden(f"You may not give a role above your own ({actor.role.value}).")
        return await self._apply(actor, user, role, active)

    async def set_active(self, actor: Actor, email: str, active: bool) -> User:
        await self.users.lock_admins(actor.tenant_id)
        return await self._apply(actor, await self.get(actor, email), None, active)

    async def set_role(self, actor: Actor, email: str, role: Role) -> User:
        await self.users.lock_admins(actor.tenant_id)
        return await self._apply(actor, await self.get(actor, email), role, None)

    async def set_password(self, actor: Actor, email: str, password: str) -> User:
        check_password_strength(password)
        user = await self.get(actor, email)
        user.password_hash = await self.hasher.hash(password)
        await self._changed(user, revoke=True)
        self._audit(actor, AuditAction.USER_PASSWORD_SET, user)
        return user

    async def _apply(self, actor: Actor, user: User, role: Role | None, active: bool | None) -> User:
        """The one place a role or active state changes. The tenant's last active admin stays one: its
        own admins cannot lock the tenant out (the operator can, to close a tenant). The caller took the
        tenant's admin lock first, so two admins demoting each other at once leave one admin."""
        changes: dict[str, str | bool] = {}
        if role is not None and role != user.role:
            changes["role"] = role.value
        if active is not None and active != user.active:
            changes["active"] = active
        if not changes:
            return user
        stays_admin = (role or Role(user.role)) == Role.ADMIN and (user.active if active is None else active)
        if (
            _is_active_admin(user)
            and not stays_admin
            and actor.type != ActorType.OPERATOR
            and await self.users.count_active_admins(user.tenant_id, excluding=user.id) == 0
        ):
            raise Conflict(f"{user.email} is the tenant's last active admin; make another admin first.")
        if role is not None:
            user.role = role
        if active is not None:
            user.active = active
        await self._changed(user, revoke=True)
        self._audit(actor, AuditAction.USER_UPDATED, user, changes)
        return user

    def _new_user(self, tenant_id: str, email: str, role: Role, password_hash: str | None) -> User:
        now = self.clock()
        return User(
            tenant_id=tenant_id,
            email=email,
            role=role,
            password_hash=password_hash,
            active=True,
            created_at=now,
            updated_at=now,
        )

    async def _changed(self, user: User, *, revoke: bool) -> None:
        user.updated_at = self.clock()
        if revoke:
            await end_user_sessions(self.session, user.tenant_id, user.id, self.clock())
        self.runtime.identities.forget_user(user.id)
        changed(self.session, IDENTITIES)
        await self.session.flush()

    def _audit(
        self, actor: Actor, action: AuditAction, user: User, details: dict[str, str | bool] | None = None
    ) -> None:
        target = AuditTarget("user", user.id, user.email)
        record_audit(self.session, actor, action, target, details=details, clock=self.clock)


def _is_active_admin(user: User) -> bool:
    return user.role == Role.ADMIN and user.active and user.password_hash is not None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"A password may have at most {MAX_PASSWORD_LENGTH} characters.")
