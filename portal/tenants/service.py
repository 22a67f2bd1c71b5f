import re

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.auth.actor import Actor
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.kit.clock import Clock, utcnow
from portal.tenants.models import Tenant
from portal.tenants.repository import TenantRepository

TENANT_SLUG_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_SLUG = re.compile(TENANT_SLUG_PATTERN)


def is_valid_slug(slug: str) -> bool:
    return bool(_SLUG.fullmatch(slug))


class TenantService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.tenants = TenantRepository(session)
        self.clock = clock

    async def create(self, actor: Actor, slug: str, name: str) -> Tenant:
        if not is_valid_slug(slug):
            raise ValidationFailed(f"Tenant slug {slug!r} is not a DNS label (a-z, 0-9 and inner '-').")
        if not name.strip():
            raise ValidationFailed("Tenant name must not be empty.")
        if await self.tenants.by_slug(slug) is not None:
            raise Conflict(f"Tenant {slug!r} already exists.")
        tenant = Tenant(slug=slug, name=name.strip(), created_at=self.clock())
        self.tenants.add(tenant)
        await self.tenants.session.flush()
        record_audit(
            self.tenants.session,
            actor,
            AuditAction.TENANT_CREATED,
            AuditTarget("tenant", tenant.id, tenant.slug),
            tenant_id=tenant.id,
            clock=self.clock,
        )
        return tenant

    async def find(self, slug: str) -> Tenant | None:
        """The tenant of this slug, or None, for a caller that answers an unknown tenant its own way
        (sign-in says only "invalid credentials")."""
        return await self.tenants.by_slug(slug)

    async def get(self, slug: str) -> Tenant:
        tenant = await self.find(slug)
        if tenant is None:
            raise NotFound(f"No tenant {slug!r}.")
        return tenant

    async def list(self) -> list[Tenant]:
        return await self.tenants.all()
