"""From a version's inventory to its findings, with the advisories each scan run needs loaded once.

A run meets the same components in many versions, so parsed purls and their matches are cached for the
run; advisories are loaded only for the (ecosystem, name) keys the components have, each at most once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from portal.advisories.repository import AdvisoryRepository
from portal.sbom import Inventory
from portal.scanning.findings import SUMMARY_FIELDS, FoundVulnerability, finding_line, summary_counts
from portal.vulns import (
    AdvisoryIndex,
    Match,
    PurlError,
    PurlPackage,
    base_ecosystem,
    normalize_name,
    parse_purl,
)

# a finding as a run caches it: (its sort key, the finding, its document line)
_Cached = tuple[tuple[Any, ...], FoundVulnerability, str]
_SORT_KEY = itemgetter(0)


@dataclass(frozen=True, slots=True)
class _ComponentFindings:
    findings: list[_Cached]
    counts: list[int]  # summary_counts of the findings


@dataclass(frozen=True, slots=True)
class VersionFindings:
    """A version's findings in scan order, with each one's document line, and their summary."""

    findings: list[FoundVulnerability]
    lines: list[str]
    summary: dict[str, int]


def _keys(package: PurlPackage) -> list[tuple[str, str]]:
    base = base_ecosystem(package.ecosystem)
    keys = [(base, normalize_name(base, package.name))]
    if package.source_name:
        keys.append((base, normalize_name(base, package.source_name)))
    return keys


class Matcher:
    def __init__(self) -> None:
        self.index = AdvisoryIndex()
        self._loaded_keys: set[tuple[str, str]] = set()
        self._packages: dict[str, PurlPackage | None] = {}
        self._matches: dict[str, list[Match]] = {}
        self._component_findings: dict[tuple[str, str, str | None], _ComponentFindings] = {}
        self.components_matched = 0

    def package(self, purl: str) -> PurlPackage | None:
        if purl not in self._packages:
            try:
                self._packages[purl] = parse_purl(purl)
            except PurlError:
                # a purl the SBOM got wrong names no package an advisory could be about
                self._packages[purl] = None
        return self._packages[purl]

    async def load_for(self, repository: AdvisoryRepository, inventories: Iterable[Inventory]) -> int:
        """Loads the advisories of every package these inventories name that no earlier call loaded."""
        wanted: set[tuple[str, str]] = set()
        for inventory in inventories:
            for component in inventory.components:
                package = self.package(component.purl) if component.purl else None
                if package is not None:
                    wanted.update(_keys(package))
        wanted -= self._loaded_keys
        if not wanted:
            return 0
        self._loaded_keys |= wanted
        # Each key is loaded once, with every advisory naming it: no cached match goes stale.
        documents = await repository.package_documents(sorted(wanted))
        for advisory_id, ecosystem, name, document in documents:
            self.index.add_package(advisory_id, ecosystem, name, document)
        return len(documents)

    def findings(self, inventory: Inventory) -> VersionFindings:
        """Reproducible: the same advisories and components give the same findings in the same order."""
        found: list[_Cached] = []
        counts = [0] * len(SUMMARY_FIELDS)
        seen: set[str] = set()
        for component in inventory.components:
            if not component.purl:
                continue
            self.components_matched += 1
            # a finding is an advisory on a purl: a purl met again adds none
            if component.purl in seen:
                continue
            seen.add(component.purl)
            # versions of an image share most components: their findings are built once per run
            key = (component.purl, component.name, component.version)
            cached = self._component_findings.get(key)
            if cached is None:
                findings = [
                    FoundVulnerability(
                        vulnerability_id=match.advisory_id,
                        aliases=match.aliases,
                        severity=match.severity,
                        cvss_score=match.cvss_score,
                        package_name=component.name,
                        package_version=component.version,
                        package_purl=component.purl,
                        fixed_version=match.fixed_version,
                    )
                    for match in self._match(component.purl)
                ]
                cached = self._component_findings[key] = _ComponentFindings(
                    [(finding.sort_key(), finding, finding_line(finding)) for finding in findings],
                    summary_counts(findings),
                )
            found.extend(cached.findings)
            counts = [total + count for total, count in zip(counts, cached.counts, strict=True)]
        found.sort(key=_SORT_KEY)
        return VersionFindings(
            [entry[1] for entry in found],
            [entry[2] for entry in found],
            dict(zip(SUMMARY_FIELDS, counts, strict=True)),
        )

    def _match(self, purl: str) -> list[Match]:
        matches = self._matches.get(purl)
        if matches is None:
            package = self.package(purl)
            matches = self.index.match_package(package) if package is not None else []
            self._matches[purl] = matches
        return matches
