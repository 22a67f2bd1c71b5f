"""Scans are the vendor's record of each version against the advisories of the day; tenants read those of
the versions they are entitled to. A scan is appended, never rewritten, so the history is a time series."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument
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


class Finding(Base):
    """One advisory affecting one component of a scanned version; `position` keeps the scan's order."""

    __tablename__ = "scan_findings"

    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index of its own: lookups by advisory always go through a scan id (the primary key's prefix),
    # and a full rescan writes hundreds of thousands of rows, each of which an index would slow.
    vulnerability_id: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSONDocument)
    severity: Mapped[str] = mapped_column(String(16))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    package_name: Mapped[str] = mapped_column(String(500))
    package_version: Mapped[str | None] = mapped_column(String(200))
    package_purl: Mapped[str | None] = mapped_column(String(2000))
    fixed_version: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
