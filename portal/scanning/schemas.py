from datetime import date, datetime
from typing import Literal, cast

from pydantic import Field

from portal.catalog.schemas import ScanSummaryOut
from portal.kit.schema import ApiModel
from portal.scanning.listing import Finding

SeverityOut = Literal["critical", "high", "medium", "low", "unknown"]


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
    status: Literal["affected"]


class ScanDetailOut(ScanOut):
    findings: list[FindingOut] = Field(description="Most severe first, then by id and package.")


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
        status="affected",
    )
