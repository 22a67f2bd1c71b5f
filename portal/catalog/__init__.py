"""The image catalog: images, their versions with SBOMs, and which tenants are entitled to which. Each
name is imported when first used (`portal.kit.exports`): reading the catalog does not bring publishing's
SBOM readers."""

from typing import TYPE_CHECKING

from portal.kit.exports import lazy_exports

if TYPE_CHECKING:
    from portal.catalog.labels import PublishRequest
    from portal.catalog.models import Entitlement, Image, ImageVersion
    from portal.catalog.publishing import Published, PublishingService
    from portal.catalog.rendering import SbomRefused
    from portal.catalog.service import CatalogService, ImageOverview, VersionInventory

__all__ = [
    "CatalogService",
    "Entitlement",
    "Image",
    "ImageOverview",
    "ImageVersion",
    "PublishRequest",
    "Published",
    "PublishingService",
    "SbomRefused",
    "VersionInventory",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "labels": ["PublishRequest"],
        "models": ["Entitlement", "Image", "ImageVersion"],
        "publishing": ["Published", "PublishingService"],
        "rendering": ["SbomRefused"],
        "service": ["CatalogService", "ImageOverview", "VersionInventory"],
    },
)
