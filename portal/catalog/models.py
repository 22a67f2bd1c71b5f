"""Images and their versions are the vendor's, shared by every tenant; an entitlement grants one tenant
one image. The rendered SBOMs live in a table of their own so that listing versions never reads them."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument, TenantOwned
from portal.kit.ids import new_id


class Image(Base):
    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    repository: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(2000))
    # The newest version that is still published, kept by the service on publish and unpublish, so that
    # the list's `latestVersion` and `hardeningTags` are one join; null hides the image from tenants.
    # (No foreign key: images and versions would reference each other.)
    latest_version_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ImageVersion(Base):
    __tablename__ = "image_versions"
    __table_args__ = (UniqueConstraint("image_id", "digest"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(71))
    tags: Mapped[list[str]] = mapped_column(JSONDocument)
    architectures: Mapped[list[str]] = mapped_column(JSONDocument)
    hardening_tags: Mapped[list[str]] = mapped_column(JSONDocument)
    component_count: Mapped[int]
    source_format: Mapped[str] = mapped_column(String(32))
    published_at: Mapped[datetime] = mapped_column(index=True)
    # Unpublishing hides a version from tenants; the row, its SBOM and its scans stay on record.
    unpublished_at: Mapped[datetime | None]


class VersionHardeningTag(Base):
    """One row per hardening tag of a version: what `?hardeningTag=` filters on, portably."""

    __tablename__ = "image_version_hardening_tags"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class VersionSbom(Base):
    """The inventory read at publish time and both documents rendered from it, with their SHA-256 (the
    ETag), so that a download is one read and the same version always answers the same bytes."""

    __tablename__ = "image_version_sboms"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), primary_key=True
    )
    inventory: Mapped[bytes] = mapped_column(LargeBinary)
    spdx: Mapped[bytes] = mapped_column(LargeBinary)
    spdx_sha256: Mapped[str] = mapped_column(String(64))
    cyclonedx: Mapped[bytes] = mapped_column(LargeBinary)
    cyclonedx_sha256: Mapped[str] = mapped_column(String(64))


class Entitlement(TenantOwned, Base):
    __tablename__ = "image_entitlements"
    __table_args__ = (UniqueConstraint("tenant_id", "image_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    granted_at: Mapped[datetime]
