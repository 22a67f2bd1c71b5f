"""From a version's inventory to its findings, with the advisories each scan run needs loaded once.

A run meets the same components in many versions, so parsed purls and their matches are cached for the
run; advisories are loaded only for the (ecosystem, name) keys the components have, each at most once.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.advisories.repository import AdvisoryRepository
from portal.sbom import Inventory
from portal.vulns import (
    AdvisoryIndex,
    Match,
    PurlError,
    PurlPackage,
    base_ecosystem,
    normalize_name,
    parse_purl,
)
from portal.vulns.severity import SEVERITY_ORDER

AFFECTED = "affected"
_SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True, slots=True)
class FoundVulnerability:
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: str
    cvss_score: float | None
    package_name: str
    package_version: str | None
    package_purl: str | None
    fixed_version: str | None

    def names(self, identifier: str) -> bool:
        """Whether this finding is known as `identifier` (upper case): its advisory id or an alias."""
        return self.vulnerability_id.upper() == identifier or identifier in (a.upper() for a in self.aliases)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            _SEVERITY_RANK.get(self.severity, len(_SEVERITY_RANK)),
            -(self.cvss_score if self.cvss_score is not None else -1.0),
            self.vulnerability_id,
            self.package_name,
            self.package_version or "",
            self.package_purl or "",
        )


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
        self._component_findings: dict[tuple[str, str, str | None], list[FoundVulnerability]] = {}
        self._aliases_json: dict[str, str] = {}
        self.components_matched = 0

    def aliases_json(self, finding: FoundVulnerability) -> str:
        """The finding's aliases as stored, encoded once per advisory rather than once per finding."""
        encoded = self._aliases_json.get(finding.vulnerability_id)
        if encoded is None:
            encoded = self._aliases_json[finding.vulnerability_id] = json.dumps(list(finding.aliases))
        return encoded

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

    def findings(self, inventory: Inventory) -> list[FoundVulnerability]:
        """Reproducible: the same advisories and components give the same findings in the same order."""
        found: dict[tuple[str, str], FoundVulnerability] = {}
        for component in inventory.components:
            if not component.purl:
                continue
            self.components_matched += 1
            # versions of an image share most components: their findings are built once per run
            key = (component.purl, component.name, component.version)
            findings = self._component_findings.get(key)
            if findings is None:
                findings = self._component_findings[key] = [
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
            for finding in findings:
                found.setdefault((finding.vulnerability_id, component.purl), finding)
        return sorted(found.values(), key=FoundVulnerability.sort_key)

    def _match(self, purl: str) -> list[Match]:
        matches = self._matches.get(purl)
        if matches is None:
            package = self.package(purl)
            matches = self.index.match_package(package) if package is not None else []
            self._matches[purl] = matches
        return matches
