from portal.tenants.models import Tenant
from portal.tenants.service import TENANT_SLUG_PATTERN, TenantService, is_valid_slug

__all__ = ["TENANT_SLUG_PATTERN", "Tenant", "TenantService", "is_valid_slug"]
