from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import Field

from portal.auth.schemas import ActorOut, actor_out
from portal.kit.schema import ApiInput, ApiModel, Rfc3339Input
from portal.vex.models import FindingAnalysis

AnalysisState = Literal[
    "exploitable", "in_triage", "false_positive", "not_affected", "resolved", "resolved_with_pedigree"
]
AnalysisJustification = Literal[
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
]
AnalysisResponse = Literal["can_not_fix", "will_not_fix", "update", "rollback", "workaround_available"]
VULNERABILITY_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{1,99}$"

# A vulnerability id in a URL path (CVE-2024-1234, GHSA-..., PYSEC-...): anything else names nothing (404).
VulnerabilityPathId = Annotated[
    str,
    Path(
        pattern=VULNERABILITY_ID_PATTERN,
        max_length=100,
        description="The finding's vulnerabilityId (any case), or another id of the same vulnerability.",
    ),
]


class AnalysisIn(ApiInput):
    state: AnalysisState = Field(description="CycloneDX's analysis state.")
    justification: AnalysisJustification | None = Field(
        default=None, description="CycloneDX's justification, for not_affected."
    )
    detail: str | None = Field(default=None, max_length=10_000, description="Why, in words.")
    response: list[AnalysisResponse] = Field(
        default_factory=list, max_length=5, description="What you do about it (CycloneDX's responses)."
    )
    expires_at: Rfc3339Input | None = Field(
        default=None,
        description="When the analysis stops applying (RFC 3339); never, when omitted. A time already "
        "past records an entry that does not apply.",
    )


class AnalysisOut(ApiModel):
    id: str
    version_id: str
    vulnerability_id: str
    state: AnalysisState | None = Field(description="null: the entry that withdrew the analysis.")
    justification: str | None
    detail: str | None
    response: list[str]
    expires_at: datetime | None
    recorded_at: datetime
    recorded_by: ActorOut


def analysis_out(entry: FindingAnalysis) -> AnalysisOut:
    return AnalysisOut(
        id=entry.id,
        version_id=entry.version_id,
        vulnerability_id=entry.vulnerability_id,
        state=entry.state,
        justification=entry.justification,
        detail=entry.detail,
        response=list(entry.response),
        expires_at=entry.expires_at,
        recorded_at=entry.recorded_at,
        recorded_by=actor_out(entry.created_by),
    )
