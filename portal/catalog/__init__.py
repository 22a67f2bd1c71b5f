"""The image catalog: images, their versions with SBOMs, and which tenants are entitled to which."""

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
