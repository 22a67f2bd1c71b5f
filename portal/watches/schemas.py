from datetime import datetime
from typing import Literal

from pydantic import Field

from portal.auth.schemas import ActorOut
from portal.kit.schema import ApiInput, ApiModel
from portal.scanning.schemas import VexOut

CVE_PATTERN = r"^[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,}$"
WatchStatus = Literal["affected", "fixed", "not_affected", "unknown"]


class CveWatchIn(ApiInput):
    cve_id: str = Field(
        pattern=CVE_PATTERN, max_length=64, description="CVE-YYYY-NNNN..., any case; stored upper case."
    )
    note: str | None = Field(default=None, max_length=1000)


class AffectedPackageOut(ApiModel):
    name: str
    version: str | None
    purl: str | None
    fixed_version: str | None


class AffectedVersionOut(ApiModel):
    image_id: str
    image_name: str
    version_id: str
    tags: list[str]
    packages: list[AffectedPackageOut]


class CveWatchOut(ApiModel):
    id: str
    cve_id: str
    note: str | None
    created_at: datetime
    created_by: ActorOut
    status: WatchStatus = Field(
        description="affected: a latest scan of an entitled, published version has it (and no VEX "
        "statement or analysis of yours takes it out); fixed: an earlier scan had it, none now; "
        "not_affected: known to the advisories, hits nothing, or VEX takes out every finding of it (then "
        "`vex` says why); unknown: in no imported advisory."
    )
    justification: str | None = Field(
        description="When VEX makes the CVE not_affected: the justification of the latest verdict that does."
    )
    vex: VexOut | None = Field(
        description="When VEX makes the CVE not_affected: the latest verdict that does (status, "
        "justification, statement, source ...)."
    )
    affected: list[AffectedVersionOut]
    advisory_ids: list[str] = Field(description="The imported advisories (not withdrawn) that name the CVE.")
