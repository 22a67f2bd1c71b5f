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
from portal.scanning.affects import affects
from portal.scanning.findings import FoundVulnerability, finding_from_row, finding_row, row_ids
from portal.vex.verdicts import Verdict
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
    # also the findings a VEX verdict takes out (`portal.scanning.affects`)
    suppressed: bool = False

    @classmethod
    def of(
        cls,
        severity: list[str] | None,
        kev: bool | None,
        fixable: bool | None,
        epss_min: float | None,
        package: str | None,
        suppressed: bool = False,
    ) -> "FindingFilters":
        """From the query parameters or options: no severity named means every severity."""
        return cls(frozenset(severity) if severity else None, kev, fixable, epss_min, package, suppressed)


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding with its exploitation signals (the strongest of its CVEs'), what VEX says of it, and its
    place in the scan."""

    found: FoundVulnerability
    kev: KevEntry | None
    epss: EpssScore | None
    position: int = 0
    verdict: Verdict | None = None


# A raw finding line's fields (`portal.scanning.findings.finding_line`).
_VID, _SEVERITY, _SCORE, _NAME, _VERSION, _PURL, _FIXED = 0, 2, 3, 4, 5, 6, 7


@dataclass(frozen=True, slots=True)
class _Listed:
    """A finding as a list sorts and filters it: its raw line, its signals, its place in the scan."""

    row: list[Any]
    kev: KevEntry | None
    epss: EpssScore | None
    position: int
    verdict: Verdict | None = None


def row_cves(row: list[Any]) -> list[str]:
    ids = row[1] if len(row) > 8 else row_ids(row)
    return [i.upper() for i in ids if i[:4] in ("CVE-", "cve-", "Cve-")]


def with_signals(
    findings: Sequence[FoundVulnerability], signals: Signals, verdicts: Sequence[Verdict | None]
) -> list[Finding]:
    """Whole findings with their signals and verdicts (a scan's detail, which shows them all)."""
    listed = _signals([finding_row(f) for f in findings], signals, verdicts)
    return [
        Finding(f, item.kev, item.epss, item.position, item.verdict)
        for f, item in zip(findings, listed, strict=True)
    ]


def _signals(
    rows: Sequence[list[Any]],
    signals: Signals,
    verdicts: Sequence[Verdict | None],
    cves_of: Sequence[list[str]] | None = None,
) -> list[_Listed]:
    listed = []
    for position, row in enumerate(rows):
        cves = cves_of[position] if cves_of is not None else row_cves(row)
        kev = next((signals.kev[c] for c in cves if c in signals.kev), None)
        scores = [signals.epss[c] for c in cves if c in signals.epss]
        epss = max(scores, key=lambda e: (e.score, e.cve_id)) if scores else None
        listed.append(_Listed(row, kev, epss, position, verdicts[position]))
    return listed


def _keep(item: _Listed, filters: FindingFilters) -> bool:
    row = item.row
    if not filters.suppressed and not affects(item.verdict):
        return False
    if filters.severity is not None and row[_SEVERITY] not in filters.severity:
        return False
    if filters.kev is not None and (item.kev is not None) != filters.kev:
        return False
    if filters.fixable is not None and bool(row[_FIXED]) != filters.fixable:
        return False
    if filters.epss_min is not None and (item.epss is None or item.epss.score < filters.epss_min):
        return False
    if filters.package:
        wanted = filters.package.lower()
        if wanted not in str(row[_NAME]).lower() and wanted not in str(row[_PURL] or "").lower():
            return False
    return True


def _sort_key(item: _Listed, order: SortOrder) -> tuple[Any, ...]:
    row = item.row
    tail = (
        _RANK.get(row[_SEVERITY], len(_RANK)),
        row[_VID],
        row[_NAME],
        row[_VERSION] or "",
        row[_PURL] or "",
    )
    cvss = -row[_SCORE] if row[_SCORE] is not None else 1.0
    if order == "risk":
        return (
            0 if item.kev is not None else 1,
            -item.epss.score if item.epss is not None else 1.0,
            cvss,
            0 if row[_FIXED] else 1,
            *tail,
        )
    return (tail[0], cvss, *tail[1:])


def findings_page(
    rows: Sequence[list[Any]],
    cves_of: Sequence[list[str]],
    signals: Signals,
    verdicts: Sequence[Verdict | None],
    filters: FindingFilters,
    order: SortOrder,
    page: PageParams,
) -> Slice[Finding]:
    """One page of a scan's findings (its raw lines and each one's CVEs), filtered and in `order`, after
    the finding the cursor names; only the page's findings are decoded whole. `verdicts` are the rows'
    own; those that take a finding out hide it unless the filters ask for them."""
    listed = [item for item in _signals(rows, signals, verdicts, cves_of) if _keep(item, filters)]
    listed.sort(key=lambda item: _sort_key(item, order))
    start = 0
    if page.cursor is not None:
        (position,) = _GRAMMAR.decode(page.cursor)
        start = next((i + 1 for i, item in enumerate(listed) if item.position == position), len(listed))
    items = listed[start : start + page.limit]
    more = start + page.limit < len(listed)
    return Slice(
        [
            Finding(finding_from_row(item.row), item.kev, item.epss, item.position, item.verdict)
            for item in items
        ],
        _GRAMMAR.encode([items[-1].position]) if more and items else None,
    )
