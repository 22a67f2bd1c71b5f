"""A tenant's triage of its findings: every role reads the analyses and their history; only admins
record and withdraw them."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.auth.guard import AdminActor, CurrentActor, GuardedRoute
from portal.kit.ids import PathId
from portal.kit.pagination import Page, PageParams, TimePaging
from portal.vex.schemas import AnalysisIn, AnalysisOut, VulnerabilityPathId, analysis_out
from portal.vex.service import AnalysisInput
from portal.vex.triage import TriageService

router = APIRouter(prefix="/api/docker-images", tags=["vex"], route_class=GuardedRoute)

_ANALYSIS = "/{image_id}/versions/{version_id}/findings/{vulnerability_id}/analysis"


@router.put(
    _ANALYSIS,
    response_model=AnalysisOut,
    summary="Record your analysis of a vulnerability found in the version (admin)",
    description="CycloneDX's analysis: it speaks for your tenant only, over the vendor's VEX statements, "
    "until it expires (`expiresAt`) or is withdrawn. not_affected, false_positive and resolved take the "
    "finding out of the open counts. Each PUT adds an entry to the history.",
    responses=error_responses(400, 404),
)
async def record_analysis(
    image_id: PathId,
    version_id: PathId,
    vulnerability_id: VulnerabilityPathId,
    body: AnalysisIn,
    actor: AdminActor,
    db: DbSession,
    runtime: RuntimeDep,
) -> AnalysisOut:
    analysis = AnalysisInput(
        state=body.state,
        justification=body.justification,
        detail=body.detail,
        response=tuple(body.response),
        expires_at=body.expires_at,
    )
    entry = await TriageService(db, runtime.clock).record(
        actor, image_id, version_id, vulnerability_id, analysis
    )
    return analysis_out(entry)


@router.delete(
    _ANALYSIS,
    status_code=204,
    response_class=Response,
    summary="Withdraw your analysis (admin); the vendor's statements speak again",
    responses=error_responses(404),
)
async def withdraw_analysis(
    image_id: PathId,
    version_id: PathId,
    vulnerability_id: VulnerabilityPathId,
    actor: AdminActor,
    db: DbSession,
    runtime: RuntimeDep,
) -> Response:
    await TriageService(db, runtime.clock).withdraw(actor, image_id, version_id, vulnerability_id)
    return Response(status_code=204)


@router.get(
    _ANALYSIS,
    response_model=Page[AnalysisOut],
    summary="The history of your analysis of a vulnerability in the version, newest first",
    description="Every entry recorded, the withdrawals (state null) included; the newest is in force "
    "unless it is a withdrawal or has expired.",
    responses=error_responses(400, 404),
)
async def analysis_history(
    image_id: PathId,
    version_id: PathId,
    vulnerability_id: VulnerabilityPathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
    page: Annotated[PageParams, Depends(TimePaging)],
) -> Page[AnalysisOut]:
    found = await TriageService(db, runtime.clock).history(
        actor.tenant_id, image_id, version_id, vulnerability_id, page
    )
    return Page[AnalysisOut](items=[analysis_out(e) for e in found.items], next_cursor=found.next_cursor)
