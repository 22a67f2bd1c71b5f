"""The one rule for whether a vulnerability affects a version: the version's findings that name it, less
those a VEX verdict takes out.

Watch status (`portal.watches`), the events a scan or a vendor statement writes (`cve.watch.matched` /
`resolved`), the open counts of a summary and the findings a list shows all ask here, so they never
disagree. A vulnerability is an alias group, so a CVE id finds a finding filed under its GHSA or PYSEC id
too. A verdict (a vendor statement, a tenant's analysis: `portal.vex`) of `not_affected`, `fixed` or
`false_positive` takes its finding out; `affected` and `under_investigation` leave it in.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from portal.scanning.findings import FoundVulnerability
from portal.vex.verdicts import Verdict


def affects(verdict: Verdict | None) -> bool:
    """Whether a finding with this verdict (None: no statement speaks for it) counts as affecting."""
    return verdict is None or not verdict.suppresses


@dataclass(frozen=True)
class Effect:
    """What the findings that name one vulnerability say about the version."""

    affecting: list[FoundVulnerability] = field(default_factory=list)
    # the findings a verdict takes out, with it
    suppressed: list[tuple[FoundVulnerability, Verdict]] = field(default_factory=list)


def effect(
    findings: Sequence[FoundVulnerability], identifier: str, verdicts: Sequence[Verdict | None] | None = None
) -> Effect:
    """How the vulnerability known as `identifier` stands in the version the findings belong to;
    `verdicts`, when given, are the findings' own, in the same order."""
    wanted = identifier.strip().upper()
    result = Effect()
    for number, finding in enumerate(findings):
        if not finding.names(wanted):
            continue
        verdict = verdicts[number] if verdicts is not None else None
        if affects(verdict):
            result.affecting.append(finding)
        else:
            assert verdict is not None
            result.suppressed.append((finding, verdict))
    return result


def affecting(
    findings: Sequence[FoundVulnerability], identifier: str, verdicts: Sequence[Verdict | None] | None = None
) -> list[FoundVulnerability]:
    """The findings by which the vulnerability known as `identifier` affects the version they belong to;
    empty when it does not affect it."""
    return effect(findings, identifier, verdicts).affecting


def watch_packages(findings: list[FoundVulnerability]) -> list[dict[str, str | None]]:
    """The packages of the findings by which a CVE affects a version, as a watch event names them."""
    packages: dict[tuple[str, str | None, str | None], dict[str, str | None]] = {}
    for finding in findings:
        key = (finding.package_name, finding.package_version, finding.package_purl)
        packages.setdefault(
            key,
            {
                "name": finding.package_name,
                "version": finding.package_version,
                "purl": finding.package_purl,
                "fixedVersion": finding.fixed_version,
            },
        )
    return [packages[key] for key in sorted(packages, key=lambda k: (k[0], k[1] or "", k[2] or ""))]
