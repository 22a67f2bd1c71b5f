"""Login, refresh rotation with reuse detection, logout, and resolving a credential to an actor."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.apikeys.secrets import looks_like_api_key
from portal.apikeys.service import resolve_api_key
from portal.audit import AuditAction, AuditOutcome, AuditTarget, record_audit
from portal.auth.actor import Actor, Origin
from portal.auth.browser_sessions import BrowserSessionRepository
from portal.auth.cache import CachedUser, current_identities
from portal.auth.refresh_tokens import RefreshToken, RefreshTokenRepository
from portal.errors import (
    InvalidCredentials,
    InvalidRefreshToken,
    TenantMismatch,
    Unauthorized,
    ValidationFailed,
)
from portal.kit.ids import new_id
from portal.kit.secret_tokens import secret_digest
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.tenants.service import TenantService
from portal.users.models import Role, User
from portal.users.service import UserService, normalize_email


@dataclass(frozen=True, slots=True)
class BrowserSignIn:
    """A web console session: `token` is the cookie's value (the database keeps only its hash)."""

    token: str
    user: User
    tenant: Tenant


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    tenant: Tenant


class AuthService:
    def __init__(self, session: AsyncSession, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.tenants = TenantService(session, runtime.clock)
        self.users = UserService(session, runtime)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.browser_sessions = BrowserSessionRepository(session)

    async def login(self, tenant_slug: str, email: str, password: str, origin: Origin) -> Session:
        user, tenant = await self._authenticate(tenant_slug, email, password, origin)
        now = self.runtime.clock()
        refresh = await self.refresh_tokens.issue(
            tenant_id=tenant.id,
            user_id=user.id,
            family_id=new_id(),
            now=now,
            idle=timedelta(seconds=self.runtime.settings.refresh_idle_ttl_seconds),
            absolute_expires_at=now + timedelta(seconds=self.runtime.settings.refresh_absolute_ttl_seconds),
        )
        self._audit(AuditAction.LOGIN, user, tenant, origin)
        return self._session(user, tenant, refresh)

    async def sign_in_browser(
        self, tenant_slug: str, email: str, password: str, origin: Origin
    ) -> BrowserSignIn:
        """The web console's sign-in: the same check (and audit) as `login`, a server-side session
        instead of tokens."""
        user, tenant = await self._authenticate(tenant_slug, email, password, origin)
        settings, now = self.runtime.settings, self.runtime.clock()
        token = await self.browser_sessions.start(
            tenant.id,
            user.id,
            now,
            now + timedelta(seconds=settings.browser_session_idle_seconds),
            now + timedelta(seconds=settings.browser_session_absolute_seconds),
        )
        self._audit(AuditAction.LOGIN, user, tenant, origin)
        return BrowserSignIn(token=token, user=user, tenant=tenant)

    async def browser_session(self, tenant_slug: str, token: str) -> tuple[str, str] | None:
        """(user id, tenant id) of a live web console session on this tenant, extended if due; None
        when signed out, expired, or another tenant's cookie."""
        tenant = await self.tenants.find(tenant_slug)
        if tenant is None:
            return None
        row = await self.browser_sessions.by_token(tenant.id, token)
        now = self.runtime.clock()
        if row is None or now >= row.expires_at:
            return None
        idle = timedelta(seconds=self.runtime.settings.browser_session_idle_seconds)
        # Extended at most once a minute: a page view need not write.
        if row.expires_at - now < idle - timedelta(minutes=1):
            await self.browser_sessions.extend(row, now + idle)
        return row.user_id, tenant.id

    async def sign_out_browser(self, actor: Actor, token: str) -> None:
        """Ends the console session of this cookie (the actor is its user, resolved from it)."""
        if await self.browser_sessions.end(actor.tenant_id, token):
            target = AuditTarget("user", actor.user_id, actor.email)
            record_audit(self.session, actor, AuditAction.LOGOUT, target, clock=self.runtime.clock)

    async def _authenticate(
        self, tenant_slug: str, email: str, password: str, origin: Origin
    ) -> tuple[User, Tenant]:
        """The user these credentials name, or InvalidCredentials: the same answer and cost for an
        unknown tenant, an unknown email, a wrong password and a disabled user (the audit log tells
        the tenant's admins which it was)."""
        hasher = self.runtime.hasher
        tenant = await self.tenants.find(tenant_slug)
        user = None
        try:
            address: str | None = normalize_email(email)
        except ValidationFailed:  # a malformed email is just an unknown user here
            address = None
        if tenant is not None and address is not None:
            user = await self.users.by_email(tenant.id, address)
        if tenant is None or user is None:
            await hasher.verify_dummy(password)
            raise self._login_refused(tenant, tenant_slug, address, None, "unknown_email", origin)
        if user.password_hash is None:
            await hasher.verify_dummy(password)
            raise self._login_refused(tenant, tenant_slug, address, user, "not_activated", origin)
        if not await hasher.verify(user.password_hash, password):
            raise self._login_refused(tenant, tenant_slug, address, user, "wrong_password", origin)
        if not user.active:
            raise self._login_refused(tenant, tenant_slug, address, user, "disabled", origin)
        if hasher.needs_rehash(user.password_hash):
            user.password_hash = await hasher.hash(password)
        return user, tenant

    async def refresh(self, tenant_slug: str, refresh_token: str, origin: Origin) -> Session:
        now = self.runtime.clock()
        tenant = await self.tenants.find(tenant_slug)
        if tenant is None:
            raise InvalidRefreshToken()
        token = await self.refresh_tokens.by_hash(tenant.id, secret_digest(refresh_token))
        if token is None or token.revoked_at is not None:
            raise InvalidRefreshToken()
        if token.rotated_at is not None or not await self.refresh_tokens.mark_rotated(token, now):
            await self._handle_reuse(token, tenant, now, origin)
        if now >= token.expires_at or now >= token.absolute_expires_at:
            raise InvalidRefreshToken("The refresh token has expired; log in again.")
        user = await self.users.by_id(tenant.id, token.user_id)
        if user is None or not user.active:
            raise InvalidRefreshToken()
        new_token = await self.refresh_tokens.issue(
            tenant_id=tenant.id,
            user_id=user.id,
            family_id=token.family_id,
            now=now,
            idle=timedelta(seconds=self.runtime.settings.refresh_idle_ttl_seconds),
            absolute_expires_at=token.absolute_expires_at,
        )
        self._audit(AuditAction.TOKEN_REFRESHED, user, tenant, origin)
        return self._session(user, tenant, new_token)

    async def logout(self, tenant_slug: str, refresh_token: str, origin: Origin) -> None:
        """Ends the session the token belongs to. Unknown tokens are ignored: logout is idempotent."""
        tenant = await self.tenants.find(tenant_slug)
        if tenant is None:
            return
        token = await self.refresh_tokens.by_hash(tenant.id, secret_digest(refresh_token))
        if token is None:
            return
        already_ended = token.revoked_at is not None
        await self.refresh_tokens.revoke_family(tenant.id, token.family_id, self.runtime.clock())
        user = await self.users.by_id(tenant.id, token.user_id)
        if user is not None and not already_ended:
            self._audit(AuditAction.LOGOUT, user, tenant, origin)

    async def _handle_reuse(self, token: RefreshToken, tenant: Tenant, now: datetime, origin: Origin) -> None:
        grace = self.runtime.settings.refresh_reuse_grace_seconds
        rotated_at = token.rotated_at or now
        if grace > 0 and (now - rotated_at).total_seconds() <= grace:
            return  # two tabs refreshing at once: both get a pair in the same family
        await self.refresh_tokens.revoke_family(token.tenant_id, token.family_id, now)
        user = await self.users.by_id(tenant.id, token.user_id)
        # Whoever presents a spent token is not known to be its user: the event's actor is anonymous.
        record_audit(
            self.session,
            Actor.anonymous(tenant.ref, origin),
            AuditAction.REFRESH_REUSED,
            AuditTarget("user", token.user_id, user.email if user else None),
            outcome=AuditOutcome.FAILURE,
            details={"sessionRevoked": True},
            clock=self.runtime.clock,
        )
        error = InvalidRefreshToken("The refresh token was already used; the session is revoked.")
        error.keep_changes = True
        raise error

    def _audit(self, action: AuditAction, user: User, tenant: Tenant, origin: Origin) -> None:
        actor = Actor.user(user.id, user.email, Role(user.role), tenant.ref, origin)
        record_audit(
            self.session, actor, action, AuditTarget("user", user.id, user.email), clock=self.runtime.clock
        )

    def _login_refused(
        self,
        tenant: Tenant | None,
        tenant_slug: str,
        email: str | None,
        user: User | None,
        reason: str,
        origin: Origin,
    ) -> InvalidCredentials:
        """A refused sign-in, recorded in the request's transaction, which the error keeps (the request
        holds its connection already; a transaction of its own would wait for a second). The caller
        only ever hears "invalid email or password"; the tenant's admins read here which it was."""
        details: dict[str, str | None] = {"email": email, "reason": reason}
        if tenant is None:
            details["tenant"] = tenant_slug
        record_audit(
            self.session,
            Actor.anonymous(tenant.ref if tenant else None, origin),
            AuditAction.LOGIN,
            AuditTarget("user", user.id if user else None, email),
            outcome=AuditOutcome.FAILURE,
            details=details,
            clock=self.runtime.clock,
        )
        error = InvalidCredentials()
        error.keep_changes = True
        return error

    def _session(self, user: User, tenant: Tenant, refresh_token: str) -> Session:
        access = self.runtime.tokens.issue(user.id, tenant.id, str(user.role))
        return Session(
            access_token=access,
            refresh_token=refresh_token,
            expires_in=self.runtime.settings.access_token_ttl_seconds,
            user=user,
            tenant=tenant,
        )


async def resolve_actor(runtime: Runtime, credential: str, tenant_slug: str, origin: Origin) -> Actor:
    """The actor behind a credential presented to tenant `tenant_slug`, or the error to answer.

    The one place that turns a credential into an actor: the bearer check of every API route calls it,
    and so can any other front end (a session cookie names the same kinds of credential). An access
    token's user, like an API key (`ptk_...`), comes from the cache while it is fresh (no database read).
    """
    if looks_like_api_key(credential):
        return await resolve_api_key(runtime, credential, tenant_slug, origin)
    claims = runtime.tokens.decode(credential)
    cached = await user_actor(runtime, claims.user_id, claims.tenant_id)
    if not cached.active:
        raise Unauthorized("This account is disabled.")
    tenant = cached.actor.tenant
    if tenant is None or tenant.slug != tenant_slug:
        raise TenantMismatch()
    return cached.actor.at(origin)


async def browser_actor(runtime: Runtime, tenant_slug: str, token: str, origin: Origin) -> Actor | None:
    """The actor of a live web console session on this tenant, or None (signed out, expired, another
    tenant's cookie, a disabled user).

    The sign-in is read (and extended) in a short transaction of its own, done before the user is
    resolved, which may need connections of its own: a page never holds one while it waits for another."""
    async with runtime.db.transaction() as session:
        signed = await AuthService(session, runtime).browser_session(tenant_slug, token)
    if signed is None:
        return None
    user_id, tenant_id = signed
    try:
        cached = await user_actor(runtime, user_id, tenant_id)
    except Unauthorized:
        return None
    return cached.actor.at(origin) if cached.active else None


async def user_actor(runtime: Runtime, user_id: str, tenant_id: str) -> CachedUser:
    """The user as it acts now (role, active), from the cache while it is fresh."""
    users = (await current_identities(runtime)).users
    load = lambda: _load_user(runtime, user_id, tenant_id)  # noqa: E731
    cached = users.get(user_id, runtime.settings.auth_cache_seconds, refresh=load)
    if cached is None or cached.actor.tenant_id != tenant_id:
        cached = await users.load_once(user_id, load)
    return cached


async def _load_user(runtime: Runtime, user_id: str, tenant_id: str) -> CachedUser:
    generation = runtime.identities.users.generation
    async with runtime.db.sessions() as session:
        row = await UserService(session, runtime).with_tenant(tenant_id, user_id)
    if row is None:
        raise Unauthorized()
    user, tenant = row
    cached = CachedUser(
        actor=Actor.user(user.id, user.email, Role(user.role), tenant.ref),
        active=user.active,
    )
    runtime.identities.users.put(user.id, cached, generation)
    return cached
