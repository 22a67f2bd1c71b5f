from datetime import date, datetime
from typing import Literal, cast

from pydantic import Field

from portal.catalog import ImageVersion
from portal.catalog.diff import PackageChange
from portal.catalog.schemas import ScanSummaryOut
from portal.kit.schema import ApiModel
from portal.scanning.diff import OpenVulnerability, VersionDiff
from portal.scanning.listing import Finding
from portal.vex.verdicts import Verdict

SeverityOut = Literal["critical", "high", "medium", "low", "unknown"]
FindingStatus = Literal["affected", "not_affected", "fixed", "under_investigation", "false_positive"]


class ScanOut(ApiModel):
    id: str
    scanned_at: datetime
    feed_version: str = Field(description="The advisories scanned against: newest import time / count.")
    summary: ScanSummaryOut


class PackageOut(ApiModel):
    name: str
    version: str | None
    purl: str | None


class CvssOut(ApiModel):
    score: float
    vector: str
    version: str | None = Field(description="3.1, 3.0 or 4.0.")
    source: str | None = Field(
        description="The record that states it: a GHSA, PYSEC, GO ... id, or the CVE for NVD."
    )


class SourceOut(ApiModel):
    id: str = Field(description="A record that matched the component (PYSEC-, GHSA-, GO-, CGA- ...).")
    fixed_version: str | None = Field(description="The fix that record states for the component.")


class KevOut(ApiModel):
    date_added: date
    due_date: date | None
    known_ransomware_campaign_use: str = Field(description="Known or Unknown, as CISA states it.")


class EpssOut(ApiModel):
    score: float = Field(description="The probability of exploitation in the next 30 days, 0..1.")
    percentile: float
    date: date


class VexOut(ApiModel):
    status: FindingStatus = Field(
        description="OpenVEX's statuses, and false_positive (a tenant's analysis); not_affected, fixed and "
        "false_positive take the finding out of the open counts."
    )
    justification: str | None = Field(
        description="OpenVEX's justification for a vendor statement; CycloneDX's for a tenant's analysis."
    )
    statement: str | None = Field(description="Why: the impact statement, or the analysis detail.")
    action: str | None = Field(description="What to do: the action statement, or the analysis responses.")
    source: Literal["vendor", "tenant"]
    timestamp: datetime = Field(description="When the statement was made, or the analysis recorded.")
    statement_id: str | None = Field(description="The vendor statement's id (null for a tenant's analysis).")
    analysis_state: str | None = Field(
        description="The tenant's CycloneDX analysis state (exploitable, in_triage, false_positive, "
        "not_affected, resolved, resolved_with_pedigree); null for a vendor statement."
    )


class FindingOut(ApiModel):
    vulnerability_id: str = Field(
        description="The vulnerability (alias group): its CVE when it has one, else its GHSA, "
        "else its first id."
    )
    aliases: list[str] = Field(
        description="Every other id of the vulnerability (PYSEC-, GHSA-, GO-, CGA- ...)."
    )
    severity: SeverityOut = Field(
        description="A matching record's CVSS, else a GHSA's CVSS or word, else NVD's CVSS, "
        "else a feed's word."
    )
    cvss_score: float | None
    cvss: CvssOut | None = Field(
        description="The CVSS the severity comes from; null when only a word states it."
    )
    severity_source: str | None = Field(description="The record whose rating it is; null when unknown.")
    package: PackageOut
    fixed_version: str | None = Field(description="The highest fix the matching records state.")
    sources: list[SourceOut] = Field(description="Each record that matched, with its own fix.")
    kev: KevOut | None = Field(description="Set when the vulnerability is in CISA's KEV catalog.")
    epss: EpssOut | None = Field(description="Its EPSS score, when one is imported.")
    status: FindingStatus = Field(description="affected, unless VEX says otherwise (then as `vex.status`).")
    vex: VexOut | None = Field(
        description="What speaks for this finding: your own analysis in force, else the latest vendor "
        "statement that applies; null when none does."
    )


class ScanDetailOut(ScanOut):
    findings: list[FindingOut] = Field(
        description="Most severe first, then by id and package; those VEX takes out included."
    )


def finding_out(finding: Finding) -> FindingOut:
    found = finding.found
    cvss = None
    if found.cvss_vector and found.cvss_score is not None:
        cvss = CvssOut(
            score=found.cvss_score,
            vector=found.cvss_vector,
            version=found.cvss_version,
            source=found.severity_source,
        )
    return FindingOut(
        vulnerability_id=found.vulnerability_id,
        aliases=list(found.aliases),
        severity=cast(SeverityOut, found.severity),
        cvss_score=found.cvss_score,
        cvss=cvss,
        severity_source=found.severity_source,
        package=PackageOut(name=found.package_name, version=found.package_version, purl=found.package_purl),
        fixed_version=found.fixed_version,
        sources=[SourceOut(id=advisory_id, fixed_version=fixed) for advisory_id, fixed in found.sources],
        kev=KevOut(
            date_added=finding.kev.date_added,
            due_date=finding.kev.due_date,
            known_ransomware_campaign_use=finding.kev.known_ransomware_campaign_use,
        )
        if finding.kev is not None
        else None,
        epss=EpssOut(
            score=finding.epss.score, percentile=finding.epss.percentile, date=finding.epss.score_date
        )
        if finding.epss is not None
        else None,
        status=cast(FindingStatus, finding.verdict.status) if finding.verdict is not None else "affected",
        vex=vex_out(finding.verdict) if finding.verdict is not None else None,
    )


def vex_out(verdict: Verdict) -> VexOut:
    return VexOut(
        status=cast(FindingStatus, verdict.status),
        justification=verdict.justification,
        statement=verdict.statement,
        action=verdict.action,
        source=verdict.source,
        timestamp=verdict.timestamp,
        statement_id=verdict.statement_id,
        analysis_state=verdict.analysis_state,
    )


class DiffVersionOut(ApiModel):
    id: str
    tags: list[str]
    digest: str
    published_at: datetime


class PackageChangeOut(ApiModel):
    key: str = Field(description="The package's purl without version or qualifiers (else type:name).")
    name: str
    purl: str | None = Field(description="A purl of it, as the newer version's SBOM writes it.")
    from_version: str | None = Field(description="Its version(s) in `from`; null: added.")
    to_version: str | None = Field(description="Its version(s) in `to`; null: removed.")


class PackagesDiffOut(ApiModel):
    added: list[PackageChangeOut]
    removed: list[PackageChangeOut]
    changed: list[PackageChangeOut] = Field(description="At another version: reads from -> to.")


class DiffVulnerabilityOut(ApiModel):
    vulnerability_id: str
    aliases: list[str]
    severity: SeverityOut
    packages: list[str] = Field(description="The components it is found on: name and version.")


class VulnerabilitiesDiffOut(ApiModel):
    fixed: list[DiffVulnerabilityOut] = Field(description="Open in `from`, not in `to`.")
    introduced: list[DiffVulnerabilityOut] = Field(description="Open in `to`, not in `from`.")
    still_open: list[DiffVulnerabilityOut] = Field(description="Open in both.")


class HardeningDiffOut(ApiModel):
    added: list[str]
    removed: list[str]


class DiffOut(ApiModel):
    image_id: str
    image_name: str
    from_: DiffVersionOut = Field(alias="from", serialization_alias="from")
    to: DiffVersionOut
    packages: PackagesDiffOut
    vulnerabilities: VulnerabilitiesDiffOut | None = Field(
        description="From the latest scan of each version, after VEX (open: not taken out by a "
        "not_affected, fixed or false_positive verdict), by alias group; null until both are scanned."
    )
    hardening_tags: HardeningDiffOut


def _diff_vulnerability(v: OpenVulnerability) -> DiffVulnerabilityOut:
    return DiffVulnerabilityOut(
        vulnerability_id=v.vulnerability_id,
        aliases=list(v.aliases),
        severity=cast(SeverityOut, v.severity),
        packages=v.packages,
    )


def _change(change: PackageChange) -> PackageChangeOut:
    return PackageChangeOut(
        key=change.key,
        name=change.name,
        purl=change.purl,
        from_version=change.from_version,
        to_version=change.to_version,
    )


def diff_out(diff: VersionDiff) -> DiffOut:
    def version(v: ImageVersion) -> DiffVersionOut:
        return DiffVersionOut(id=v.id, tags=list(v.tags), digest=v.digest, published_at=v.published_at)

    return DiffOut(
        image_id=diff.image.id,
        image_name=diff.image.name,
        **{"from": version(diff.before)},
        to=version(diff.after),
        packages=PackagesDiffOut(
            added=[_change(c) for c in diff.inventory.added],
            removed=[_change(c) for c in diff.inventory.removed],
            changed=[_change(c) for c in diff.inventory.changed],
        ),
        vulnerabilities=VulnerabilitiesDiffOut(
            fixed=[_diff_vulnerability(v) for v in diff.fixed],
            introduced=[_diff_vulnerability(v) for v in diff.introduced],
            still_open=[_diff_vulnerability(v) for v in diff.still_open],
        )
        if diff.scanned
        else None,
        hardening_tags=HardeningDiffOut(
            added=diff.inventory.hardening_added, removed=diff.inventory.hardening_removed
        ),
    )
