"""A scan's findings as a customer reads them: joined with KEV and EPSS when read, filtered, and ordered
by severity or by risk, one cursor page at a time.

Risk order: findings of a vulnerability in CISA's KEV catalog first, then by EPSS score (highest first;
none last), then by CVSS score (highest first; none last), then fixable before not, then severity, id
and package. Both orders are total, so a cursor is the last item's sort key.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from portal.intel.models import EpssScore, KevEntry
from portal.intel.service import Signals
from portal.kit.pagination import invalid_cursor
from portal.scanning.findings import FoundVulnerability
from portal.vulns.severity import SEVERITY_ORDER

SortOrder = Literal["severity", "risk"]
_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True, slots=True)
class FindingFilters:
    severity: frozenset[str] | None = None
    kev: bool | None = None
    fixable: bool | None = None
    epss_min: float | None = None
    # a case-insensitive part of the package's name or purl
    package: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding with its exploitation signals (the strongest of its CVEs')."""

    found: FoundVulnerability
    kev: KevEntry | None
    epss: EpssScore | None


@dataclass(frozen=True)
class FindingsPage:
    items: list[Finding]
    next_cursor: list[Any] | None


def with_signals(findings: Sequence[FoundVulnerability], signals: Signals) -> list[Finding]:
    enriched = []
    for found in findings:
        cves = [cve.upper() for cve in found.cve_ids]
        kev = next((signals.kev[c] for c in cves if c in signals.kev), None)
        scores = [signals.epss[c] for c in cves if c in signals.epss]
        epss = max(scores, key=lambda s: (s.score, s.cve_id)) if scores else None
        enriched.append(Finding(found, kev, epss))
    return enriched


def keep(finding: Finding, filters: FindingFilters) -> bool:
    found = finding.found
    if filters.severity is not None and found.severity not in filters.severity:
        return False
    if filters.kev is not None and (finding.kev is not None) != filters.kev:
        return False
    if filters.fixable is not None and bool(found.fixed_version) != filters.fixable:
        return False
    if filters.epss_min is not None and (finding.epss is None or finding.epss.score < filters.epss_min):
        return False
    if filters.package:
        wanted = filters.package.lower()
        if wanted not in found.package_name.lower() and wanted not in (found.package_purl or "").lower():
            return False
    return True


def sort_key(finding: Finding, order: SortOrder) -> tuple[Any, ...]:
    found = finding.found
    tail = (
        _RANK.get(found.severity, len(_RANK)),
        found.vulnerability_id,
        found.package_name,
        found.package_version or "",
        found.package_purl or "",
    )
    cvss = -found.cvss_score if found.cvss_score is not None else 1.0
    if order == "risk":
        return (
            0 if finding.kev is not None else 1,
            -finding.epss.score if finding.epss is not None else 1.0,
            cvss,
            0 if found.fixed_version else 1,
            *tail,
        )
    return (tail[0], cvss, *tail[1:])


def page_of(
    findings: Sequence[Finding], order: SortOrder, limit: int, cursor: list[Any] | None
) -> FindingsPage:
    keyed = sorted(((sort_key(f, order), f) for f in findings), key=lambda pair: pair[0])
    if cursor is not None:
        after = _cursor_key(cursor, order)
        keyed = [pair for pair in keyed if pair[0] > after]
    items = keyed[:limit]
    next_cursor = [order, *items[-1][0]] if len(keyed) > limit else None
    return FindingsPage([f for _, f in items], next_cursor)


def _cursor_key(cursor: list[Any], order: SortOrder) -> tuple[Any, ...]:
    if not cursor or cursor[0] != order:
        raise invalid_cursor()
    key = tuple(cursor[1:])
    shape = (
        (int, float, float, int, int, str, str, str, str)
        if order == "risk"
        else (int, float, str, str, str, str)
    )
    if len(key) != len(shape) or not all(
        isinstance(value, kind) or (kind is float and isinstance(value, int) and not isinstance(value, bool))
        for value, kind in zip(key, shape, strict=True)
    ):
        raise invalid_cursor()
    return key
