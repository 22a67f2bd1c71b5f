"""Imported OSV advisories, shared by every tenant.

The record is kept as imported (without its prose); a scan reads instead, per (ecosystem, name), the
compact matching document the import derived from it, and loads only those of the packages it meets.
A second narrow table lets a CVE id find every advisory that names it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, JSONDocument


class Advisory(Base):
    __tablename__ = "advisories"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    modified: Mapped[datetime]
    published: Mapped[datetime | None]
    # A withdrawn advisory stays on record (earlier scans name it) but matches nothing.
    withdrawn: Mapped[datetime | None]
    aliases: Mapped[list[str]] = mapped_column(JSONDocument)
    summary: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    record: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    imported_at: Mapped[datetime] = mapped_column(index=True)


class AdvisoryPackage(Base):
    """(base ecosystem, normalized name) -> advisory: what a scan looks a component up by, with what it
    matches against (`portal.vulns.package_documents`: ranges, versions, fixes, aliases, severity)."""

    __tablename__ = "advisory_packages"
    __table_args__ = (Index("ix_advisory_packages_ecosystem_name", "ecosystem", "name"),)

    advisory_id: Mapped[str] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True
    )
    ecosystem: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), primary_key=True)
    matching: Mapped[list[Any]] = mapped_column(JSONDocument)


class AdvisoryAlias(Base):
    """Every id an advisory is known by (its own included), upper case: how a CVE watch finds it."""

    __tablename__ = "advisory_aliases"

    identifier: Mapped[str] = mapped_column(String(200), primary_key=True)
    advisory_id: Mapped[str] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
