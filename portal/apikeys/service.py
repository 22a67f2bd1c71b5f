"""API keys: a tenant admin creates, lists and revokes them; a request presents one instead of a token.

A key acts as its own actor (`api_key`, named by the key) on behalf of the user behind it (its owner):
with the key's role but never above the owner's current role, and only while the owner is active. So a
demoted user's keys are demoted with them, and a disabled user's keys stop working until the user is
enabled again (revoke them to end them for good). Revoking takes effect at once in the process that
does it and within `PORTAL_AUTH_CACHE_SECONDS` in the others, like disabling a user.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.apikeys.models import ApiKey
from portal.apikeys.repository import ApiKeyRepository
from portal.apikeys.secrets import PREFIX, SHOWN_PREFIX_LENGTH, well_formed
from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor, ActorType, Origin
from portal.auth.cache import CachedApiKey, current_identities
from portal.errors import (
    DetailCode,
    ErrorDetail,
    Forbidden,
    NotFound,
    TenantMismatch,
    Unauthorized,
    ValidationFailed,
)
from portal.kit.ids import is_uuid
from portal.kit.pagination import PageParams, Slice
from portal.kit.readcache import IDENTITIES, changed
from portal.kit.secret_tokens import new_secret_token, secret_digest
from portal.runtime import Runtime
from portal.users.models import Role

# "At most one year ahead": a calendar year, which may hold a 29 February.
MAX_LIFETIME = timedelta(days=366)
# lastUsedAt is kept to the minute: writing it on every request would cost a write per request.
LAST_USED_PRECISION_SECONDS = 60.0
UNKNOWN_KEY_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    # The secret in clear: answered this once, never stored.
    secret: str


class ApiKeyService:
    def __init__(self, session: AsyncSession, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.clock = runtime.clock
        self.keys = ApiKeyRepository(session)

    async def create(self, actor: Actor, name: str, role: Role, expires_at: datetime) -> CreatedKey:
        if actor.user_id is None:
            raise Forbidden("An API key is created by a user of the tenant, on whose behalf it acts.")
        if role.rank > actor.role.rank:
            raise Forbidden(f"A key's role may not be above yours ({actor.role.value}).")
        now = self.clock()
        if expires_at <= now:
            raise _invalid_expiry("expiresAt must be in the future.", "too_small")
        if expires_at > now + MAX_LIFETIME:
            raise _invalid_expiry("expiresAt may be at most one year ahead.", "too_big")
        secret, secret_hash = new_secret_token(PREFIX)
        key = ApiKey(
            tenant_id=actor.tenant_id,
            name=name.strip(),
            prefix=secret[:SHOWN_PREFIX_LENGTH],
            secret_hash=secret_hash,
            role=role,
            owner_id=actor.user_id,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
            last_used_at=None,
            last_used_ip=None,
        )
        key.set_created_by(actor.ref)
        self.keys.add(key)
        await self.session.flush()
        self._audit(
            actor, AuditAction.API_KEY_CREATED, key, {"role": role.value, "expiresAt": expires_at.isoformat()}
        )
        return CreatedKey(key, secret)

    async def page(self, tenant_id: str, page: PageParams) -> Slice[ApiKey]:
        return await self.keys.page(tenant_id, page)

    async def get(self, tenant_id: str, reference: str) -> ApiKey:
        """A key by its id, or (at the command line) by the prefix a list shows."""
        if is_uuid(reference):
            key = await self.keys.by_id(tenant_id, reference)
        else:
            found = await self.keys.by_prefix(tenant_id, reference)
            key = found[0] if len(found) == 1 else None
        if key is None:
            raise NotFound("No such API key.")
        return key

    async def revoke(self, actor: Actor, reference: str) -> ApiKey:
        """Idempotent: revoking a revoked key changes nothing."""
        key = await self.get(actor.tenant_id, reference)
        if key.revoked_at is None:
            key.revoked_at = self.clock()
            await self.session.flush()
            self._audit(actor, AuditAction.API_KEY_REVOKED, key)
            changed(self.session, IDENTITIES)
        self.runtime.identities.forget_api_key(key.secret_hash)
        return key

    def _audit(
        self, actor: Actor, action: AuditAction, key: ApiKey, details: dict[str, str] | None = None
    ) -> None:
        target = AuditTarget("api_key", key.id, f"{key.name} ({key.prefix}...)")
        record_audit(self.session, actor, action, target, details=details, clock=self.clock)


def _invalid_expiry(message: str, code: DetailCode) -> ValidationFailed:
    return ValidationFailed(message, details=[ErrorDetail(path=["expiresAt"], message=message, code=code)])


async def resolve_api_key(runtime: Runtime, secret: str, tenant_slug: str, origin: Origin) -> Actor:
    """The actor behind a presented key, or the error to answer. The key's state comes from the cache
    while it is fresh: no database read, one SHA-256 and the key's rate-limit count per request."""
    if not well_formed(secret):
        raise Unauthorized("This is not an API key the portal issued.")
    secret_hash = secret_digest(secret)
    # Before anything else: a digest no key has never gains one, whatever changed since.
    if runtime.identities.unknown_api_keys.get(secret_hash, UNKNOWN_KEY_SECONDS):
        raise Unauthorized("Unknown API key.")
    cache = (await current_identities(runtime)).api_keys
    load = lambda: _load_key(runtime, secret_hash)  # noqa: E731
    cached = cache.get(secret_hash, runtime.settings.auth_cache_seconds, refresh=load)
    if cached is None:
        cached = await cache.load_once(secret_hash, load)
    if cached.revoked:
        raise Unauthorized("This API key was revoked.")
    if runtime.clock() >= cached.expires_at:
        raise Unauthorized("This API key has expired.")
    if not cached.owner_active:
        raise Unauthorized("The user who created this API key is disabled.")
    actor = cached.actor
    if actor.acting_tenant.slug != tenant_slug:
        raise TenantMismatch()
    assert actor.id is not None
    await runtime.limiter.hit_counter(runtime.api_key_limit, "api-key", actor.id)
    actor = actor.at(origin)
    await _note_use(runtime, actor)
    return actor


async def _load_key(runtime: Runtime, secret_hash: str) -> CachedApiKey:
    generation = runtime.identities.api_keys.generation
    async with runtime.db.sessions() as session:
        found = await ApiKeyRepository(session).with_owner_by_digest(secret_hash)
    if found is None:
        runtime.identities.unknown_api_keys.put(secret_hash, True)
        raise Unauthorized("Unknown API key.")
    key, owner, tenant = found
    role = min(Role(key.role), Role(owner.role), key=lambda r: r.rank)
    actor = Actor(
        type=ActorType.API_KEY,
        id=key.id,
        name=key.name,
        role=role,
        tenant=tenant.ref,
        email=owner.email,
        user_id=owner.id,
    )
    cached = CachedApiKey(
        actor=actor, expires_at=key.expires_at, revoked=key.revoked_at is not None, owner_active=owner.active
    )
    runtime.identities.remember_api_key(secret_hash, owner.id, cached, generation)
    return cached


async def _note_use(runtime: Runtime, actor: Actor) -> None:
    """lastUsedAt and lastUsedIp, at most once a minute per key and process; the first use is audited."""
    assert actor.id is not None
    uses = runtime.identities.api_key_uses
    now = time.monotonic()
    last = uses.get(actor.id)
    if last is not None and now - last < LAST_USED_PRECISION_SECONDS:
        return
    uses[actor.id] = now
    async with runtime.db.transaction() as session:
        first = await ApiKeyRepository(session).note_use(
            actor.tenant_id, actor.id, runtime.clock(), actor.origin.ip
        )
        if first:
            record_audit(
                session,
                actor,
                AuditAction.API_KEY_FIRST_USED,
                AuditTarget("api_key", actor.id, actor.name),
                clock=runtime.clock,
            )
