from datetime import datetime
from typing import Literal

from pydantic import Field

from portal.catalog.schemas import ScanSummaryOut
from portal.kit.schema import ApiModel

SeverityOut = Literal["critical", "high", "medium", "low", "unknown"]


class ScanOut(ApiModel):
    id: str
    scanned_at: datetime
    feed_version: str = Field(description="The advisories scanned against: newest `modified` / count.")
    summary: ScanSummaryOut


class PackageOut(ApiModel):
    name: str
    version: str | None
    purl: str | None


class FindingOut(ApiModel):
    vulnerability_id: str = Field(description="The advisory's id (PYSEC-, GHSA-, GO-, CGA-, CVE- ...).")
    aliases: list[str] = Field(description="Every other id of the advisory, CVE ids included.")
    severity: SeverityOut = Field(description="From the CVSS vector, else the source's word, else unknown.")
    cvss_score: float | None
    package: PackageOut
    fixed_version: str | None
    status: Literal["affected"]


class ScanDetailOut(ScanOut):
    findings: list[FindingOut] = Field(description="Most severe first, then by id and package.")
