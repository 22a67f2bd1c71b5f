"""A scan's findings as a customer reads them: joined with KEV and EPSS when read, filtered, and ordered
by severity or by risk, one cursor page at a time.

Risk order: findings of a vulnerability in CISA's KEV catalog first, then by EPSS score (highest first;
none last), then by CVSS score (highest first; none last), then fixable before not, then severity, id
and package. Both orders are total. A scan's findings never change, so a cursor names the last item shown
by its place in the scan's document: the next page starts after that item, wherever KEV or EPSS updates
have moved it meanwhile. Every number is a position (one past the last finding gives an empty page).

A finding set never changes either, so what ordering and filtering read of each finding is prepared once
per set (`FindingList`, kept by the process in `FindingLists`); a request reads only what may have changed
since, the signals (`ListSignals`: which CVEs are in KEV, their EPSS scores) and the VEX verdicts (one per
finding, in the list's order), picks its page from the list sorted once per set and signals, and decodes
only that page's findings. A finding a verdict takes out (`portal.scanning.affects`) is left out unless the
filters ask.
"""

import json
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from portal.intel.models import EpssScore, KevEntry
from portal.intel.service import Signals
from portal.kit.pagination import CursorGrammar, KeyKind, PageParams
from portal.scanning.affects import affects
from portal.scanning.findings import FoundVulnerability, finding_from_row, finding_row, row_ids
from portal.scanning.findings import lines_of as document_lines
from portal.vex.verdicts import Verdict
from portal.vulns.severity import SEVERITY_ORDER

SortOrder = Literal["severity", "risk"]
POSITION = KeyKind(r"[0-9]{1,7}", 7, int, str)
# The cursor of a findings page (the API's query parameter is `portal.scanning.routes`').
FINDINGS_CURSOR = CursorGrammar(POSITION)
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


def row_cves(row: list[Any]) -> list[str]:
    ids = row[1] if len(row) > 8 else row_ids(row)
    return [i.upper() for i in ids if i[:4] in ("CVE-", "cve-", "Cve-")]


@dataclass(frozen=True, slots=True)
class _Listed:
    """What ordering and filtering read of one finding, all but its signals."""

    position: int
    severity: str
    # ordering by severity: (rank, -score or 1.0, id, package name, version, purl, position)
    by_severity: tuple[Any, ...]
    # the tail of the risk order: (-score or 1.0, fixable 0 else 1, rank, id, name, version, purl, position)
    risk_tail: tuple[Any, ...]
    fixable: bool
    package: str  # name and purl, lower case, for the package filter
    cves: tuple[str, ...]
    # what VEX matches a finding by (`portal.vex.service.Subjects`): every id (upper case), the component
    ids: frozenset[str]
    purl: str | None
    version: str | None


def _listed(position: int, row: list[Any]) -> _Listed:
    rank = _RANK.get(row[_SEVERITY], len(_RANK))
    cvss = -row[_SCORE] if row[_SCORE] is not None else 1.0
    tail = (row[_VID], row[_NAME], row[_VERSION] or "", row[_PURL] or "", position)
    return _Listed(
        position=position,
        severity=row[_SEVERITY],
        by_severity=(rank, cvss, *tail),
        risk_tail=(cvss, 0 if row[_FIXED] else 1, rank, *tail),
        fixable=bool(row[_FIXED]),
        package=f"{row[_NAME]}\n{row[_PURL] or ''}".lower(),
        cves=tuple(row_cves(row)),
        ids=frozenset(i.upper() for i in (row[1] if len(row) > 8 else row_ids(row))),
        purl=row[_PURL],
        version=row[_VERSION],
    )


@dataclass(frozen=True, slots=True)
class ListSignals:
    """What ordering and filtering read of KEV and EPSS: the CVEs in KEV, and EPSS scores by CVE."""

    kev: frozenset[str]
    epss: dict[str, float]

    def kev_of(self, item: _Listed) -> bool:
        return not self.kev.isdisjoint(item.cves)

    def epss_of(self, item: _Listed) -> float | None:
        scores = [self.epss[c] for c in item.cves if c in self.epss]
        return max(scores) if scores else None


class FindingList:
    """A finding set prepared for lists: each finding's line (decoded only when on a page) and what
    ordering and filtering read of it. Sets never change, so one is made once per set and kept."""

    __slots__ = ("_ordered", "cves", "items", "lines")

    def __init__(self, document: bytes | None) -> None:
        self.lines = document_lines(document) if document is not None else []
        rows: list[list[Any]] = json.loads("[" + ",".join(self.lines) + "]") if self.lines else []
        self.items = [_listed(position, row) for position, row in enumerate(rows)]
        self.cves = frozenset(c for item in self.items for c in item.cves)
        # order -> (the signals it was made with, every finding's (key, position) sorted)
        self._ordered: dict[SortOrder, tuple[ListSignals | None, list[tuple[tuple[Any, ...], int]]]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def ordered(self, order: SortOrder, signals: ListSignals | None) -> list[tuple[tuple[Any, ...], int]]:
        """Every finding's (key, position), sorted: kept until the signals it depends on change (the
        severity order depends on none)."""
        uses = signals if order == "risk" else None
        kept = self._ordered.get(order)
        if kept is None or kept[0] != uses:
            kept = (uses, sorted((_sort_key(item, order, uses), item.position) for item in self.items))
            self._ordered[order] = kept
        return kept[1]


class FindingLists:
    """The finding lists a process made lately (on `Runtime`), the most recently read kept first, up to
    about `capacity` findings in all (a prepared finding takes about 1.3 KB)."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._lists: OrderedDict[str, FindingList] = OrderedDict()
        self._size = 0

    async def get(self, digest: str, load: Callable[[str], Awaitable[bytes | None]]) -> FindingList:
        found = self._lists.get(digest)
        if found is not None:
            self._lists.move_to_end(digest)
            return found
        found = FindingList(await load(digest))
        self._lists[digest] = found
        self._size += len(found)
        while self._size > self.capacity and len(self._lists) > 1:
            _, dropped = self._lists.popitem(last=False)
            self._size -= len(dropped)
        return found


def needs_signals(order: SortOrder, filters: FindingFilters) -> bool:
    return order == "risk" or filters.kev is not None or filters.epss_min is not None


def with_signals(
    findings: Sequence[FoundVulnerability],
    signals: Signals,
    verdicts: Sequence[Verdict | None] | None = None,
) -> list[Finding]:
    """Whole findings with their signals, and their verdicts when given (a scan's detail, a list's page)."""
    found = []
    for position, finding in enumerate(findings):
        cves = row_cves(finding_row(finding))
        kev = next((signals.kev[c] for c in cves if c in signals.kev), None)
        scores = [signals.epss[c] for c in cves if c in signals.epss]
        epss = max(scores, key=lambda e: (e.score, e.cve_id)) if scores else None
        found.append(Finding(finding, kev, epss, position, verdicts[position] if verdicts else None))
    return found


def _keep(
    item: _Listed, verdict: Verdict | None, signals: ListSignals | None, filters: FindingFilters
) -> bool:
    if not filters.suppressed and not affects(verdict):
        return False
    if filters.severity is not None and item.severity not in filters.severity:
        return False
    if filters.fixable is not None and item.fixable != filters.fixable:
        return False
    if filters.package and filters.package.lower() not in item.package:
        return False
    if signals is not None:
        if filters.kev is not None and signals.kev_of(item) != filters.kev:
            return False
        if filters.epss_min is not None:
            score = signals.epss_of(item)
            if score is None or score < filters.epss_min:
                return False
    return True


def _sort_key(item: _Listed, order: SortOrder, signals: ListSignals | None) -> tuple[Any, ...]:
    if order == "risk" and signals is not None:
        score = signals.epss_of(item)
        return (0 if signals.kev_of(item) else 1, -score if score is not None else 1.0, *item.risk_tail)
    return item.by_severity


def page_positions(
    found: FindingList,
    verdicts: Sequence[Verdict | None],
    signals: ListSignals | None,
    filters: FindingFilters,
    order: SortOrder,
    page: PageParams,
) -> tuple[list[int], str | None]:
    """The positions of one page of the list (filtered, in `order`, after the finding the cursor names),
    and the cursor of the next page; `verdicts` are the findings' own, in the list's order. Keys end with
    the position: the order is total."""
    keyed = found.ordered(order, signals)
    start = 0
    if page.cursor is not None:
        (position,) = FINDINGS_CURSOR.decode(page.cursor)
        # a cursor past the end, or naming a finding the filters now leave out, ends the list
        if position >= len(found) or not _keep(found.items[position], verdicts[position], signals, filters):
            return [], None
        item = found.items[position]
        start = bisect_right(keyed, (_sort_key(item, order, signals), position))
    positions: list[int] = []
    for _, at in islice(keyed, start, None):
        if _keep(found.items[at], verdicts[at], signals, filters):
            if len(positions) == page.limit:
                return positions, FINDINGS_CURSOR.encode([positions[-1]])
            positions.append(at)
    return positions, None


def page_rows(found: FindingList, positions: Sequence[int]) -> list[FoundVulnerability]:
    return [finding_from_row(json.loads(found.lines[position])) for position in positions]
