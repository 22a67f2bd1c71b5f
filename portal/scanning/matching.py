"""From a version's inventory to its findings, with the advisories each scan run needs loaded once.

A run meets the same components in many versions, so parsed purls and their findings are cached for the
run; advisories are loaded only for the (ecosystem, name) keys the components have, each at most once, and
the facts of the records that matched (their group, their own rating) once per record.

A component's matches are grouped by vulnerability (alias group): one finding per group, listing each
record that matched with its fix. Its fixed version is the highest any of them states, in the
ecosystem's order; its rating is the highest CVSS vector a matching record states itself, else the
group's (see `portal.advisories.grouping`).
"""

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import chain
from typing import Any

from portal.advisories.grouping import group_id
from portal.advisories.service import AdvisoryService, VulnerabilityFacts
from portal.sbom import ComponentRef
from portal.scanning.findings import (
    SUMMARY_FIELDS,
    FoundVulnerability,
    deflate_block,
    finding_line,
    line_cves,
    summary_counts,
)
from portal.vulns import (
    AdvisoryIndex,
    InvalidVersion,
    Match,
    PurlError,
    PurlPackage,
    base_ecosystem,
    normalize_name,
    parse_purl,
)
from portal.vulns.versions import key_function

# A component as a scan meets it: (purl, name, version), for a component with a purl.
ComponentKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class _ComponentFindings:
    findings: list[FoundVulnerability]
    text: str  # their document lines, joined
    block: bytes  # the text compressed (`portal.scanning.findings.deflate_block`)
    vulnerability_ids: list[str]
    cves: list[list[str] | None]
    counts: list[int]  # summary_counts of the findings
    # the upper-case CVE ids of each finding that has any: what its KEV count is worked out from
    cve_sets: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class _VersionComponents:
    count: int  # every component, with a purl or not
    # those with a purl, each purl once (a finding is a vulnerability on a purl), in inventory order
    scanned: tuple[ComponentKey, ...]


@dataclass(frozen=True)
class VersionFindings:
    """A version's findings in scan order (component by component), with their summary; the document
    and the lists beside it are put together when asked for."""

    parts: list[_ComponentFindings]
    summary: dict[str, int]
    kev: int

    @cached_property
    def findings(self) -> list[FoundVulnerability]:
        return [finding for part in self.parts for finding in part.findings]

    @property
    def text(self) -> str:
        return "\n".join(part.text for part in self.parts)

    @property
    def blocks(self) -> list[bytes]:
        return [part.block for part in self.parts]

    @property
    def vulnerability_ids(self) -> list[str]:
        return list(chain.from_iterable(part.vulnerability_ids for part in self.parts))

    @property
    def cves(self) -> list[list[str] | None]:
        return list(chain.from_iterable(part.cves for part in self.parts))


def package_keys(package: PurlPackage) -> list[tuple[str, str]]:
    """The (ecosystem, name) keys advisories name the package under: itself and its source package."""
    base = base_ecosystem(package.ecosystem)
    keys = [(base, normalize_name(base, package.name))]
    if package.source_name:
        keys.append((base, normalize_name(base, package.source_name)))
    return keys


class Matcher:
    """What scans need of the advisories, loaded as they meet packages and kept for the next versions.

    A run keeps one for its batches; the worker keeps one between runs (`portal.scanning.index`), told
    by `forget` which packages an import changed since, so it loads again only those. It also keeps the
    components of each version it scanned (a version's inventory never changes once published).
    """

    def __init__(self, feed_version: str = "", since: datetime | None = None) -> None:
        self.feed_version = feed_version
        # the newest import time among the advisories it was made from: the changes after it are new
        self.since = since
        self.index = AdvisoryIndex()
        self._loaded_keys: set[tuple[str, str]] = set()
        self._packages: dict[str, PurlPackage | None] = {}
        self._purl_keys: dict[str, list[tuple[str, str]]] = {}
        self._matches: dict[str, list[Match]] = {}
        self._facts: dict[str, tuple[Any, ...]] = {}
        self._groups: VulnerabilityFacts = VulnerabilityFacts({}, {})
        self._component_findings: dict[ComponentKey, _ComponentFindings] = {}
        self._kev: frozenset[str] = frozenset()
        self._kev_counts: dict[ComponentKey, int] = {}
        self._versions: dict[str, _VersionComponents] = {}
        # one tuple per distinct component, however many versions hold it
        self._components: dict[ComponentKey, ComponentKey] = {}

    @property
    def loaded_packages(self) -> int:
        return len(self._loaded_keys)

    def use_kev(self, listed: frozenset[str]) -> None:
        """The CVE ids in KEV now: a KEV import between two batches counts from the next one on."""
        if listed != self._kev:
            self._kev = listed
            self._kev_counts.clear()

    def forget(self, packages: AbstractSet[tuple[str, str]], advisory_ids: AbstractSet[str]) -> None:
        """Drops what it knows of these packages (their advisories, the findings of the components
        that are them) and of these advisories (their group and rating), to load them again when met."""
        dropped = set(advisory_ids)
        for ecosystem, name in packages:
            dropped.update(self.index.drop(ecosystem, name))
        self._loaded_keys -= packages
        for advisory_id in dropped:
            self._facts.pop(advisory_id, None)
        stale = {purl for purl, keys in self._purl_keys.items() if not packages.isdisjoint(keys)}
        for purl in stale:
            self._matches.pop(purl, None)
        for key in [key for key in self._component_findings if key[0] in stale]:
            del self._component_findings[key]
            self._kev_counts.pop(key, None)

    def package(self, purl: str) -> PurlPackage | None:
        if purl not in self._packages:
            try:
                self._packages[purl] = parse_purl(purl)
            except PurlError:
                # a purl the SBOM got wrong names no package an advisory could be about
                self._packages[purl] = None
        return self._packages[purl]

    def knows(self, version_id: str) -> bool:
        return version_id in self._versions

    def add_version(self, version_id: str, components: Sequence[ComponentRef]) -> None:
        """A version's components, (purl, name, version) each, in inventory order."""
        scanned: list[ComponentKey] = []
        seen: set[str] = set()
        for purl, name, version in components:
            if purl and purl not in seen:
                seen.add(purl)
                key = (purl, name, version)
                scanned.append(self._components.setdefault(key, key))
        self._versions[version_id] = _VersionComponents(len(components), tuple(scanned))

    def component_count(self, version_id: str) -> int:
        return self._versions[version_id].count

    def packages_of(self, version_id: str) -> set[tuple[str, str]]:
        """The (ecosystem, name) keys of a known version's packages, as advisories name them."""
        keys: set[tuple[str, str]] = set()
        for purl, _, _ in self._versions[version_id].scanned:
            keys.update(self._keys_of_purl(purl))
        return keys

    def _keys_of_purl(self, purl: str) -> list[tuple[str, str]]:
        keys = self._purl_keys.get(purl)
        if keys is None:
            package = self.package(purl)
            keys = self._purl_keys[purl] = package_keys(package) if package is not None else []
        return keys

    async def prepare(self, advisories: AdvisoryService, version_ids: Iterable[str]) -> int:
        """Loads what these known versions need that no earlier call loaded: the advisories of their
        packages and the facts of the records that match; then builds each new component's findings.
        Returns how many package documents it read."""
        new = {
            component
            for version_id in version_ids
            for component in self._versions[version_id].scanned
            if component not in self._component_findings
        }
        wanted: set[tuple[str, str]] = set()
        for purl, _, _ in new:
            wanted.update(self._keys_of_purl(purl))
        wanted -= self._loaded_keys
        loaded = 0
        if wanted:
            self._loaded_keys |= wanted
            # Each key is loaded once, with every advisory naming it: no cached match goes stale.
            documents = await advisories.package_documents(sorted(wanted))
            for advisory_id, ecosystem, name, document in documents:
                self.index.add_package(advisory_id, ecosystem, name, document)
            loaded = len(documents)
        matched: set[str] = set()
        for purl, _, _ in new:
            if purl not in self._matches:
                matched.update(m.advisory_id for m in self._match(purl))
        unknown = sorted(matched - self._facts.keys())
        if unknown:
            facts = await advisories.vulnerability_facts(unknown)
            self._facts.update(facts.records)
            self._groups.groups.update(facts.groups)
        # each component's findings, built once and kept until an import changes its advisories
        for key in sorted(new):
            found = self._build(*key)
            cve_sets = (frozenset(c.upper() for c in f.cve_ids) for f in found)
            text = "\n".join(finding_line(f) for f in found)
            self._component_findings[key] = _ComponentFindings(
                found,
                text,
                deflate_block(text.encode()) if found else b"",
                [f.vulnerability_id for f in found],
                [line_cves(f) for f in found],
                summary_counts(found),
                tuple(cves for cves in cve_sets if cves),
            )
        return loaded

    def findings(self, version_id: str) -> VersionFindings:
        """Reproducible: the same advisories and components give the same findings in the same order."""
        everything = self._component_findings
        parts: list[_ComponentFindings] = []
        kev = 0
        # versions of an image share most components: `prepare` built their findings once
        for key in self._versions[version_id].scanned:
            cached = everything[key]
            if cached.findings:
                parts.append(cached)
                if cached.cve_sets:
                    kev += self._kev_count(key, cached)
        counts = [sum(column) for column in zip(*(part.counts for part in parts), strict=True)]
        summary = dict(zip(SUMMARY_FIELDS, counts or [0] * len(SUMMARY_FIELDS), strict=True))
        return VersionFindings(parts, summary, kev)

    def _kev_count(self, key: ComponentKey, cached: _ComponentFindings) -> int:
        count = self._kev_counts.get(key)
        if count is None:
            kev = self._kev
            count = self._kev_counts[key] = sum(1 for cves in cached.cve_sets if not cves.isdisjoint(kev))
        return count

    def _match(self, purl: str) -> list[Match]:
        matches = self._matches.get(purl)
        if matches is None:
            package = self.package(purl)
            matches = self.index.match_package(package) if package is not None else []
            self._matches[purl] = matches
        return matches

    def _build(self, purl: str, name: str, version: str | None) -> list[FoundVulnerability]:
        by_group: dict[str, list[Match]] = {}
        for match in self._match(purl):
            facts = self._facts.get(match.advisory_id)
            group = facts[0] if facts and facts[0] else None
            by_group.setdefault(group or f"\x00{match.advisory_id}", []).append(match)
        package = self.package(purl)
        built = [
            self._finding(key, matches, purl, package, name, version)
            for key, matches in sorted(by_group.items(), key=lambda item: item[0])
        ]
        built.sort(key=FoundVulnerability.sort_key)
        return built

    def _finding(
        self,
        key: str,
        matches: Sequence[Match],
        purl: str,
        package: PurlPackage | None,
        name: str,
        version: str | None,
    ) -> FoundVulnerability:
        group = None if key.startswith("\x00") else self._groups.groups.get(key)
        # The ids of the records that matched, and their aliases: a group also holds the records other
        # packages' feeds filed (one Wolfi advisory per package), which say nothing about this component.
        named = {i for m in matches for i in (m.advisory_id, *m.aliases)}
        vulnerability_id = group.id if group is not None else group_id(named)
        ids = sorted(named | {vulnerability_id}, key=str.upper)
        rating = self._rating(matches, group)
        return FoundVulnerability(
            vulnerability_id=vulnerability_id,
            ids=tuple(ids),
            severity=rating[0],
            cvss_score=rating[1],
            package_name=name,
            package_version=version,
            package_purl=purl,
            fixed_version=_highest_fix(matches, package),
            cvss_vector=rating[2],
            cvss_version=rating[3],
            severity_source=rating[4],
            sources=tuple(sorted((m.advisory_id, m.fixed_version) for m in matches)),
        )

    def _rating(
        self, matches: Sequence[Match], group: Any
    ) -> tuple[str, float | None, str | None, str | None, str | None]:
        """(severity, score, vector, version, source): a matching record's own CVSS, else the group's."""
        own = [
            (facts[1], facts[2], facts[3], facts[4], m.advisory_id)
            for m in matches
            if (facts := self._facts.get(m.advisory_id)) and facts[3] and facts[2] is not None
        ]
        if own:
            best = max(own, key=lambda rating: (rating[1], rating[4]))
            return best
        if group is not None and group.severity != "unknown":
            return (
                group.severity,
                group.cvss_score,
                group.cvss_vector,
                group.cvss_version,
                group.severity_source,
            )
        # records not grouped yet (imported before groups existed): their own word, the worst one
        worded = [(m.severity, m.advisory_id) for m in matches if m.severity != "unknown"]
        if worded:
            severity, source = min(worded, key=lambda w: (_RANK[w[0]], w[1]))
            score = next((m.cvss_score for m in matches if m.advisory_id == source), None)
            return severity, score, None, None, source
        return "unknown", None, None, None, None


_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "unknown": 4}


def _highest_fix(matches: Sequence[Match], package: PurlPackage | None) -> str | None:
    """The highest fixed version any record states: the component is affected until it passes all."""
    fixes = sorted({m.fixed_version for m in matches if m.fixed_version})
    if len(fixes) <= 1:
        return fixes[0] if fixes else None
    function = key_function(package.ecosystem) if package is not None else None
    if function is None:
        return fixes[-1]
    keyed = []
    for fix in fixes:
        try:
            keyed.append((function(fix), fix))
        except InvalidVersion:
            continue
    if not keyed:
        return fixes[-1]
    best = keyed[0]
    for candidate in keyed[1:]:
        try:
            if candidate[0] > best[0]:
                best = candidate
        except TypeError:
            continue
    return best[1]
