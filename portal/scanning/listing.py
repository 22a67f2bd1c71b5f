"""A scan's findings as a customer reads them: joined with KEV and EPSS when read, filtered, and ordered
by severity or by risk, one cursor page at a time.

Risk order: findings of a vulnerability in CISA's KEV catalog first, then by EPSS score (highest first;
none last), then by CVSS score (highest first; none last), then fixable before not, then severity, id
and package. Both orders are total. A scan's findings never change, so a cursor names the last item shown
by its place in the scan's document: the next page starts after that item, wherever KEV or EPSS updates
have moved it meanwhile. Every number is a position (one past the last finding gives an empty page).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from portal.intel.models import EpssScore, KevEntry
from portal.intel.service import Signals
from portal.kit.pagination import CursorGrammar, KeyKind, PageParams, Slice, page_params
from portal.scanning.findings import FoundVulnerability
from portal.vulns.severity import SEVERITY_ORDER

SortOrder = Literal["severity", "risk"]
POSITION = KeyKind(r"[0-9]{1,7}", 7, int, str)
FINDINGS_PAGING = page_params(CursorGrammar(POSITION))
_GRAMMAR = CursorGrammar(POSITION)
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
    """A finding with its exploitation signals (the strongest of its CVEs'), and its place in the scan."""

    found: FoundVulnerability
    kev: KevEntry | None
    epss: EpssScore | None
    position: int = 0


def with_signals(findings: Sequence[FoundVulnerability], signals: Signals) -> list[Finding]:
    enriched = []
    for position, found in enumerate(findings):
        cves = [cve.upper() for cve in found.cve_ids]
        kev = next((signals.kev[c] for c in cves if c in signals.kev), None)
        scores = [signals.epss[c] for c in cves if c in signals.epss]
        epss = max(scores, key=lambda s: (s.score, s.cve_id)) if scores else None
        enriched.append(Finding(found, kev, epss, position))
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


def page_of(findings: Sequence[Finding], order: SortOrder, page: PageParams) -> Slice[Finding]:
    """One page of the findings in `order`, after the finding the cursor names."""
    ordered = sorted(findings, key=lambda f: sort_key(f, order))
    start = 0
    if page.cursor is not None:
        (position,) = _GRAMMAR.decode(page.cursor)
        start = next((i + 1 for i, f in enumerate(ordered) if f.position == position), len(ordered))
    items = ordered[start : start + page.limit]
    more = start + page.limit < len(ordered)
    return Slice(items, _GRAMMAR.encode([items[-1].position]) if more and items else None)
