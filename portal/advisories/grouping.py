"""Alias groups: records that share an id or an alias, transitively (PYSEC-x ~ CVE-y ~ GHSA-z), are one
vulnerability.

A group's id (a finding's `vulnerabilityId`) is its CVE when it has one (the oldest, when it has several),
else its GHSA id, else the first of its ids in sorted order. Its fallback rating, used when the records
that matched a component state no CVSS vector of their own, is the first of:
1. a GHSA record's CVSS vector (the highest score, when several), else a GHSA record's severity word;
2. NVD's CVSS metric for the group's CVE (v3.1, v3.0, then v4.0; NVD's own before a CNA's);
3. another record's CVSS vector;
4. any record's severity word (the worst, when several);
else `unknown`. A withdrawn record joins no group.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from portal.vulns.severity import SEVERITY_ORDER

_CVE: Final = re.compile(r"CVE-(\d{4})-(\d+)")


@dataclass(frozen=True, slots=True)
class Member:
    """What grouping needs of one record."""

    id: str
    aliases: tuple[str, ...]
    source: str
    severity: str
    cvss_score: float | None
    cvss_vector: str | None
    cvss_version: str | None

    @property
    def identifiers(self) -> list[str]:
        return [self.id, *self.aliases]


@dataclass(frozen=True, slots=True)
class GroupRating:
    """What a scan reads of a group: its id and fallback rating."""

    id: str
    severity: str
    cvss_score: float | None
    cvss_vector: str | None
    cvss_version: str | None
    severity_source: str | None


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    ids: list[str]
    members: list[str]
    severity: str
    cvss_score: float | None
    cvss_vector: str | None
    cvss_version: str | None
    severity_source: str | None


def group_id(identifiers: Iterable[str]) -> str:
    """The CVE (oldest first), else the GHSA, else the first id."""
    ids = sorted({i.strip() for i in identifiers if i.strip()}, key=str.upper)
    cves = [i for i in ids if _CVE.fullmatch(i.upper())]
    if cves:
        return min(cves, key=_cve_order).upper()
    ghsas = [i for i in ids if i.upper().startswith("GHSA-")]
    return ghsas[0] if ghsas else ids[0]


def _cve_order(cve: str) -> tuple[int, int]:
    match = _CVE.fullmatch(cve.upper())
    assert match is not None
    return int(match.group(1)), int(match.group(2))


def build_groups(members: Sequence[Member]) -> list[Group]:
    """The connected groups of these records (a union-find over their upper-case identifiers)."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        root = item
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[item] != root:  # path compression keeps later finds short
            parent[item], item = root, parent[item]
        return root

    for member in members:
        first = member.id.upper()
        find(first)
        for identifier in member.aliases:
            a, b = find(first), find(identifier.strip().upper())
            if a != b:
                parent[b] = a
    by_root: dict[str, list[Member]] = {}
    for member in members:
        by_root.setdefault(find(member.id.upper()), []).append(member)
    return [_group(group) for group in by_root.values()]


def _group(members: list[Member]) -> Group:
    spelled: dict[str, str] = {}
    for member in sorted(members, key=lambda m: m.id):
        for identifier in member.identifiers:
            spelled.setdefault(identifier.strip().upper(), identifier.strip())
    ids = sorted(spelled.values(), key=str.upper)
    rating = group_rating(members)
    return Group(
        id=group_id(ids),
        ids=ids,
        members=sorted(m.id for m in members),
        severity=rating.severity if rating else "unknown",
        cvss_score=rating.cvss_score if rating else None,
        cvss_vector=rating.cvss_vector if rating else None,
        cvss_version=rating.cvss_version if rating else None,
        severity_source=rating.id if rating else None,
    )


def _highest(members: Iterable[Member]) -> Member | None:
    scored = [m for m in members if m.cvss_vector and m.cvss_score is not None]
    return max(scored, key=lambda m: (m.cvss_score or 0.0, m.id), default=None)


def _worst_word(members: Iterable[Member]) -> Member | None:
    worded = [m for m in members if not m.cvss_vector and m.severity in SEVERITY_ORDER[:-1]]
    return min(worded, key=lambda m: (SEVERITY_ORDER.index(m.severity), m.id), default=None)


def group_rating(members: Sequence[Member]) -> Member | None:
    """The member whose rating the group falls back to, in the module's order; None when none states one."""
    ghsa = [m for m in members if m.id.upper().startswith("GHSA-")]
    nvd = [m for m in members if m.source == "nvd"]
    others = [m for m in members if m not in ghsa and m not in nvd]
    return _highest(ghsa) or _worst_word(ghsa) or _highest(nvd) or _highest(others) or _worst_word(members)
