"""Scans are the vendor's record of each version against the advisories of the day; tenants read those of
the versions they are entitled to. A scan is appended, never rewritten, so the history is a time series."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.kit.ids import new_id


class Scan(Base):
    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_version_id_scanned_at", "version_id", "scanned_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("image_versions.id", ondelete="CASCADE"))
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    scanned_at: Mapped[datetime]
    # What the advisories were: their newest `modified` and their count, so two scans can be compared.
    feed_version: Mapped[str] = mapped_column(String(100))
    critical: Mapped[int] = mapped_column(Integer)
    high: Mapped[int] = mapped_column(Integer)
    medium: Mapped[int] = mapped_column(Integer)
    low: Mapped[int] = mapped_column(Integer)
    unknown: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    fixable: Mapped[int] = mapped_column(Integer)
    findings_digest: Mapped[str] = mapped_column(ForeignKey("finding_sets.digest"))


class FindingSet(Base):
    """The findings of one or many scans, stored once (see `portal.scanning.findings` for the format).

    Shared by content, not owned by a scan: each scan names its set by digest, and a rescan that finds
    the same adds no row here. Nothing in it is a tenant's: it is reached only through a scan.
    """

    __tablename__ = "finding_sets"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # a JSON list, one vulnerability id per finding in document order
    vulnerability_ids: Mapped[str] = mapped_column(Text)
    # a JSON list beside it: each finding's CVE ids, or null when they are just its vulnerability id (or
    # none, for an id that is no CVE); null for sets stored before it existed
    cve_ids: Mapped[str | None] = mapped_column(Text)
    document: Mapped[bytes] = mapped_column(LargeBinary)


class VersionPackage(Base):
    """(ecosystem, name) of each package a version contains, as advisories name them: which versions an
    import of changed advisories must rescan. Written by the version's first scan."""

    __tablename__ = "version_packages"
    __table_args__ = (Index("ix_version_packages_ecosystem_name", "ecosystem", "name"),)

    version_id: Mapped[str] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), primary_key=True
    )
    ecosystem: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), primary_key=True)
