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
    latest_scan: ScanSummaryOut | None = None


class ImageDetailOut(ImageOut):
    versions: list[VersionOut] = Field(description="Published versions, newest first.")
