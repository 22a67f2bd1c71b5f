"""Reading CISA's KEV catalog (JSON) and FIRST's EPSS scores (CSV, gzipped or not) into rows.

A malformed entry or line is reported and skipped; a file of the wrong shape altogether is refused whole.
"""

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

_CVE = re.compile(r"CVE-\d{4}-\d{4,19}")
# FIRST's first line: "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000"
_EPSS_META = re.compile(r"#\s*model_version:(?P<model>[^,]*),\s*score_date:(?P<date>\d{4}-\d{2}-\d{2})")


class FeedRefused(ValueError):
    """A file that is not the feed it should be: nothing of it is imported."""


@dataclass(frozen=True, slots=True)
class KevRow:
    cve_id: str
    vendor_project: str
    product: str
    vulnerability_name: str
    date_added: date
    due_date: date | None
    known_ransomware_campaign_use: str


@dataclass(frozen=True, slots=True)
class EpssRow:
    cve_id: str
    score: float
    percentile: float
    score_date: date
    model_version: str | None


@dataclass(frozen=True, slots=True)
class BadEntry:
    where: str
    reason: str


def read_kev(path: Path) -> Iterator[KevRow | BadEntry]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise FeedRefused(f"{path}: not a JSON document: {error}") from error
    entries = document.get("vulnerabilities") if isinstance(document, dict) else None
    if not isinstance(entries, list) or "catalogVersion" not in document:
        raise FeedRefused(
            f"{path}: not CISA's KEV catalog: "
            "expected an object with catalogVersion and a vulnerabilities list"
        )
    for index, entry in enumerate(entries):
        yield _kev_row(entry, f"vulnerabilities[{index}]")


def _kev_row(entry: Any, where: str) -> KevRow | BadEntry:
    if not isinstance(entry, dict):
        return BadEntry(where, "not an object")
    cve_id = entry.get("cveID")
    if not isinstance(cve_id, str) or not _CVE.fullmatch(cve_id.strip().upper()):
        return BadEntry(where, f"cveID is not a CVE id: {cve_id!r}")
    where = f"{where} ({cve_id})"
    try:
        added = date.fromisoformat(str(entry.get("dateAdded")))
        due = entry.get("dueDate")
        due_date = date.fromisoformat(due) if isinstance(due, str) and due else None
    except ValueError as error:
        return BadEntry(where, f"a date is not YYYY-MM-DD: {error}")
    return KevRow(
        cve_id=cve_id.strip().upper(),
        vendor_project=str(entry.get("vendorProject") or "")[:300],
        product=str(entry.get("product") or "")[:300],
        vulnerability_name=str(entry.get("vulnerabilityName") or "")[:500],
        date_added=added,
        due_date=due_date,
        known_ransomware_campaign_use=str(entry.get("knownRansomwareCampaignUse") or "Unknown")[:32],
    )


def _text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8-sig")


def read_epss(path: Path) -> Iterator[EpssRow | BadEntry]:
    try:
        text = _text(path)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as error:
        raise FeedRefused(f"{path}: cannot be read as (gzipped) text: {error}") from error
    lines = text.splitlines()
    meta = _EPSS_META.match(lines[0]) if lines else None
    if meta is None:
        raise FeedRefused(
            f"{path}: not FIRST's EPSS CSV: the first line is not #model_version:...,score_date:..."
        )
    score_date = date.fromisoformat(meta["date"])
    model = meta["model"].strip() or None
    reader = csv.reader(io.StringIO("\n".join(lines[1:])))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:3]] != ["cve", "epss", "percentile"]:
        raise FeedRefused(f"{path}: not FIRST's EPSS CSV: the second line is not cve,epss,percentile")
    for number, row in enumerate(reader, start=3):
        yield _epss_row(row, f"line {number}", score_date, model)


def _epss_row(row: list[str], where: str, score_date: date, model: str | None) -> EpssRow | BadEntry:
    if len(row) < 3:
        return BadEntry(where, "fewer than three columns")
    cve_id = row[0].strip().upper()
    if not _CVE.fullmatch(cve_id):
        return BadEntry(where, f"not a CVE id: {row[0]!r}")
    try:
        score, percentile = float(row[1]), float(row[2])
    except ValueError:
        return BadEntry(f"{where} ({cve_id})", "epss and percentile must be numbers")
    if not (0.0 <= score <= 1.0 and 0.0 <= percentile <= 1.0):
        return BadEntry(f"{where} ({cve_id})", f"epss {score} and percentile {percentile} must lie in 0..1")
    return EpssRow(cve_id, score, percentile, score_date, model)
