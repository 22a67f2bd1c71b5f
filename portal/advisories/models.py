"""Imported OSV advisories, shared by every tenant.

The record is kept as imported (without its prose); a scan reads instead, per (ecosystem, name), the
compact matching document the import derived from it, and loads only those of the packages it meets.
A second narrow table lets a CVE id find every advisory that names it. Records that share an id or an
alias, transitively, are one vulnerability (`Vulnerability`, kept by the import).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
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
    # The record's own rating: its CVSS vector's (score, vector, version), or only a severity word.
    severity: Mapped[str] = mapped_column(String(16))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(300))
    cvss_version: Mapped[str | None] = mapped_column(String(8))
    # "osv" (PYSEC, GHSA, GO, CGA ...) or "nvd" (a CVE record, which names no package).
    source: Mapped[str] = mapped_column(String(16), server_default="osv")
    # How the import derived the rows above; records derived by an older import are derived again.
    derivation: Mapped[int] = mapped_column(Integer, server_default="0")
    # The alias group's id (`Vulnerability.id`); null until an import has grouped the record.
    vulnerability_id: Mapped[str | None] = mapped_column(String(200), index=True)
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


class Vulnerability(Base):
    """One alias group: every id its records are known by, and the rating a finding falls back to when the
    records that matched state no CVSS of their own (see `portal.advisories.grouping`)."""

    __tablename__ = "vulnerabilities"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ids: Mapped[list[str]] = mapped_column(JSONDocument)
    severity: Mapped[str] = mapped_column(String(16))
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(300))
    cvss_version: Mapped[str | None] = mapped_column(String(8))
    # The record whose rating it is (a GHSA id, a CVE id for NVD's), or null when unknown.
    severity_source: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
