"""Exploitation signals, shared by every tenant and joined to findings when they are read, so a new KEV
entry or an EPSS refresh shows on the latest findings without a rescan."""

from datetime import date, datetime

from sqlalchemy import Date, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class KevEntry(Base):
    """One CVE of CISA's Known Exploited Vulnerabilities catalog."""

    __tablename__ = "kev_entries"

    cve_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vendor_project: Mapped[str] = mapped_column(String(300))
    product: Mapped[str] = mapped_column(String(300))
    vulnerability_name: Mapped[str] = mapped_column(String(500))
    date_added: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    known_ransomware_campaign_use: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime]


class EpssScore(Base):
    """FIRST's Exploit Prediction Scoring System score of one CVE, as of its score date."""

    __tablename__ = "epss_scores"

    cve_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    score_date: Mapped[date] = mapped_column(Date)
    model_version: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime]
