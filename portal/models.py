"""Every table, imported in one place for the migrations' metadata."""

from portal.auth.refresh_tokens import RefreshToken
from portal.catalog.models import Entitlement, Image, ImageVersion, VersionHardeningTag, VersionSbom
from portal.events.models import OutboxEvent
from portal.tenants.models import Tenant
from portal.users.models import User

__all__ = [
    "Entitlement",
    "Image",
    "ImageVersion",
    "OutboxEvent",
    "RefreshToken",
    "Tenant",
    "User",
    "VersionHardeningTag",
    "VersionSbom",
]
