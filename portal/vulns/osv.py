"""OSV advisory records: parsing one record, and reading the files, folders and zips they ship in."""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from portal.vulns.severity import Severity, rate_severity
from portal.vulns.versions import base_ecosystem

RangeType = Literal["ECOSYSTEM", "SEMVER", "GIT"]
EventKind = Literal["introduced", "fixed", "last_affected", "limit"]

_RANGE_TYPES: Final = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})
_EVENT_KINDS: Final = frozenset({"introduced", "fixed", "last_affected", "limit"})
# RFC 3339 as the feeds write it, fractional seconds of any length (Python keeps six digits)
_TIMESTAMP: Final = re.compile(
    r"(?P<main>\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?"
)


class AdvisoryError(ValueError):
    """A record that is not a usable OSV advisory."""

    def __init__(self, reason: str, advisory_id: str | None = None) -> None:
        self.reason = reason
        self.advisory_id = advisory_id
        super().__init__(f"{advisory_id}: {reason}" if advisory_id else reason)


@dataclass(frozen=True, slots=True)
class Range:
    type: RangeType
    events: tuple[tuple[EventKind, str], ...]
    repo: str | None = None


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    fixed_versions: tuple[str, ...]
    purl: str | None = None

    @property
    def base_ecosystem(self) -> str:
        return base_ecosystem(self.ecosystem)


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    modified: datetime
    published: datetime | None
    withdrawn: datetime | None
    aliases: tuple[str, ...]
    summary: str
    details: str
    severity: Severity
    cvss_score: float | None
    cvss_vector: str | None
    affected: tuple[AffectedPackage, ...]
    # "osv" or "nvd": where the record comes from (an NVD CVE record names no package).
    source: str = "osv"

    @property
    def cvss_version(self) -> str | None:
        if self.cvss_vector is None or not self.cvss_vector.startswith("CVSS:"):
            return None
        return self.cvss_vector[5:].split("/", 1)[0] or None


def parse_timestamp(value: object, field: str, advisory_id: str | None = None) -> datetime:
    match = _TIMESTAMP.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise AdvisoryError(f"{field} is not an RFC 3339 timestamp: {value!r}", advisory_id)
    text = match["main"].replace(" ", "T").replace("t", "T")
    if match["fraction"]:
        text += "." + match["fraction"][:6].ljust(6, "0")
    zone = match["zone"]
    if zone and zone not in ("Z", "z"):
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise AdvisoryError(f"{field} is not a valid timestamp: {value!r}", advisory_id) from error
    # no zone means UTC in practice (the OSV schema requires "Z")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _string_list(value: object, field: str, advisory_id: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AdvisoryError(f"{field} must be a list of strings", advisory_id)
    return tuple(value)


def _optional_mapping(value: object, field: str, advisory_id: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise AdvisoryError(f"{field} must be an object", advisory_id)
    return value


def _parse_range(raw: object, where: str, advisory_id: str) -> Range:
    if not isinstance(raw, Mapping):
        raise AdvisoryError(f"{where} must be an object", advisory_id)
    range_type = raw.get("type")
    if range_type not in _RANGE_TYPES:
        raise AdvisoryError(f"{where}.type must be ECOSYSTEM, SEMVER or GIT, not {range_type!r}", advisory_id)
    raw_events = raw.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise AdvisoryError(f"{where}.events must be a non-empty list", advisory_id)
    events: list[tuple[EventKind, str]] = []
    for index, event in enumerate(raw_events):
        if not isinstance(event, Mapping) or len(event) != 1:
            raise AdvisoryError(f"{where}.events[{index}] must hold exactly one event", advisory_id)
        ((kind, value),) = event.items()
        if kind not in _EVENT_KINDS or not isinstance(value, str) or not value.strip():
            raise AdvisoryError(f"{where}.events[{index}] is not a valid event: {event!r}", advisory_id)
        events.append((kind, value.strip()))
    if not any(kind == "introduced" for kind, _ in events):
        raise AdvisoryError(f"{where} has no introduced event", advisory_id)
    repo = raw.get("repo")
    return Range(range_type, tuple(events), repo if isinstance(repo, str) else None)


def _parse_affected(raw: object, index: int, advisory_id: str) -> AffectedPackage | None:
    where = f"affected[{index}]"
    if not isinstance(raw, Mapping):
        raise AdvisoryError(f"{where} must be an object", advisory_id)
    package = raw.get("package")
    if package is None:
        # the schema allows a package-less entry for GIT ranges of a bare repository: nothing to match
        return None
    if not isinstance(package, Mapping):
        raise AdvisoryError(f"{where}.package must be an object", advisory_id)
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not ecosystem.strip():
        raise AdvisoryError(f"{where}.package.ecosystem is missing", advisory_id)
    if not isinstance(name, str) or not name.strip():
        raise AdvisoryError(f"{where}.package.name is missing", advisory_id)
    raw_ranges = raw.get("ranges") or []
    if not isinstance(raw_ranges, list):
        raise AdvisoryError(f"{where}.ranges must be a list", advisory_id)
    ranges = tuple(
        _parse_range(item, f"{where}.ranges[{i}]", advisory_id) for i, item in enumerate(raw_ranges)
    )
    fixed: list[str] = []
    for range_ in ranges:
        if range_.type != "GIT":
            fixed.extend(value for kind, value in range_.events if kind == "fixed" and value not in fixed)
    purl = package.get("purl")
    return AffectedPackage(
        ecosystem=ecosystem.strip(),
        name=name.strip(),
        ranges=ranges,
        versions=tuple(
            v.strip() for v in _string_list(raw.get("versions"), f"{where}.versions", advisory_id)
        ),
        fixed_versions=tuple(fixed),
        purl=purl if isinstance(purl, str) else None,
    )


def parse_advisory(record: object) -> Advisory:
    """One OSV record (a decoded JSON object) as an Advisory; AdvisoryError says what is wrong."""
    if not isinstance(record, Mapping):
        raise AdvisoryError("an OSV record must be a JSON object")
    advisory_id = record.get("id")
    if advisory_id is None and "affected" not in record:
        raise AdvisoryError("not an OSV record: no id and no affected")
    if not isinstance(advisory_id, str) or not advisory_id.strip():
        raise AdvisoryError("id is missing")
    advisory_id = advisory_id.strip()
    raw_affected = record.get("affected") or []
    if not isinstance(raw_affected, list):
        raise AdvisoryError("affected must be a list", advisory_id)
    affected = tuple(
        entry
        for entry in (_parse_affected(raw, index, advisory_id) for index, raw in enumerate(raw_affected))
        if entry is not None
    )
    severity_entries = record.get("severity") or []
    if not isinstance(severity_entries, list):
        raise AdvisoryError("severity must be a list", advisory_id)
    rating = rate_severity(
        severity_entries,
        _optional_mapping(record.get("database_specific"), "database_specific", advisory_id),
        [
            raw.get("ecosystem_specific") if isinstance(raw.get("ecosystem_specific"), Mapping) else None
            for raw in raw_affected
            if isinstance(raw, Mapping)
        ],
    )
    summary, details = record.get("summary"), record.get("details")
    published, withdrawn = record.get("published"), record.get("withdrawn")
    return Advisory(
        id=advisory_id,
        modified=parse_timestamp(record.get("modified"), "modified", advisory_id),
        published=None if published is None else parse_timestamp(published, "published", advisory_id),
        withdrawn=None if withdrawn is None else parse_timestamp(withdrawn, "withdrawn", advisory_id),
        aliases=_string_list(record.get("aliases"), "aliases", advisory_id),
        summary=summary.strip() if isinstance(summary, str) else "",
        details=details if isinstance(details, str) else "",
        severity=rating.severity,
        cvss_score=rating.cvss_score,
        cvss_vector=rating.cvss_vector,
        affected=affected,
    )


SourceItem = tuple[str, dict[str, Any] | AdvisoryError]


def _decode(name: str, data: bytes) -> Iterator[SourceItem]:
    try:
        decoded = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        yield name, AdvisoryError(f"{name} is not valid JSON: {error}")
        return
    # a single file may hold one record or a list of them
    records = decoded if isinstance(decoded, list) else [decoded]
    for index, record in enumerate(records):
        label = name if len(records) == 1 and not isinstance(decoded, list) else f"{name}[{index}]"
        if isinstance(record, dict):
            yield label, record
        else:
            yield label, AdvisoryError(f"{label} is not a JSON object")


def iter_osv_source(path: Path) -> Iterator[SourceItem]:
    """(file name, record or error) for a JSON file, a folder of them (recursive) or an osv.dev zip.

    Lazy and memory bounded: one member at a time is read, and a zip is never extracted to disk.
    Names are visited in sorted order so the same source always yields the same sequence.
    """
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            if file.is_file():
                yield from _decode(file.relative_to(path).as_posix(), file.read_bytes())
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and info.filename.endswith(".json")
                ),
                key=lambda info: info.filename,
            )
            for info in members:
                try:
                    data = archive.read(info)
                except (zipfile.BadZipFile, zlib.error) as exc:  # one damaged member, not the archive
                    yield (
                        info.filename,
                        AdvisoryError(f"{info.filename} cannot be read from the archive: {exc}"),
                    )
                    continue
                yield from _decode(info.filename, data)
    elif path.is_file():
        yield from _decode(path.name, path.read_bytes())
    else:
        raise FileNotFoundError(path)


def iter_advisories(path: Path) -> Iterator[tuple[str, Advisory | AdvisoryError]]:
    """iter_osv_source, with each record parsed; a bad record is reported, never fatal."""
    for name, item in iter_osv_source(path):
        if isinstance(item, AdvisoryError):
            yield name, item
            continue
        try:
            yield name, parse_advisory(item)
        except AdvisoryError as error:
            yield name, error
