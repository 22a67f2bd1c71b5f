from datetime import datetime

from pydantic import Field

from portal.kit.schema import ApiModel


class ScanSummaryOut(ApiModel):
    """Vulnerability counts of a version's latest scan; filled in by the scanning feature."""

    critical: int
    high: int
    medium: int
    low: int
    unknown: int
    total: int
    fixable: int
    kev: int = Field(
        default=0,
        description="Findings of a vulnerability in CISA's KEV catalog as imported now (no rescan).",
    )
    suppressed: int = Field(
        default=0,
        description="Findings a VEX statement or your analysis marks not_affected, fixed or false_positive: "
        "counted here, not in the counts above.",
    )


class LatestScanOut(ScanSummaryOut):
    """The version's newest scan: its summary, and its id to read the findings with."""

    id: str
    scanned_at: datetime


class LatestVersionOut(ApiModel):
    id: str
    tags: list[str]
    digest: str
    published_at: datetime


class ImageOut(ApiModel):
    id: str
    name: str
    repository: str
    description: str | None
    hardening_tags: list[str] = Field(description="The latest version's hardening tags.")
    latest_version: LatestVersionOut
    updated_at: datetime


class VersionOut(ApiModel):
    id: str
    tags: list[str]
    digest: str
    architectures: list[str]
    published_at: datetime
    hardening_tags: list[str]
    component_count: int
    latest_scan: LatestScanOut | None = Field(
        default=None, description="Its newest scan; null until its first scan (queued when it is published)."
    )


class ImageDetailOut(ImageOut):
    versions: list[VersionOut] = Field(description="Published versions, newest first.")
