"""A tenant's triage of its findings (every role reads the analyses and their history; only admins
record and withdraw them), and each version's VEX for download."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import AdminActor, CurrentActor, GuardedRoute
from portal.catalog.routes import CYCLONEDX_MEDIA_TYPE, IfNoneMatch
from portal.kit.conditional import none_match, strong_etag
from portal.kit.pagination import Page, PageParams
from portal.vex.exports import ExportFormat, VexExports
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


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_MEDIA_TYPES: dict[ExportFormat, str] = {
    "openvex": "application/json",
    "cyclonedx": CYCLONEDX_MEDIA_TYPE,
    "cyclonedx-vdr": CYCLONEDX_MEDIA_TYPE,
}
_EXTENSIONS: dict[ExportFormat, str] = {
    "openvex": "openvex.json",
    "cyclonedx": "vex.cdx.json",
    "cyclonedx-vdr": "vdr.cdx.json",
}


@router.get(
    "/{image_id}/versions/{version_id}/vex",
    response_class=Response,
    summary="The version's VEX: OpenVEX 0.2.0, CycloneDX 1.5 VEX or a CycloneDX 1.5 VDR",
    description="The verdicts on the findings of the version's latest scan. openvex: one statement per "
    "verdict, its product the image purl with digest, its subcomponents the components' purls. cyclonedx: "
    "the same as CycloneDX analyses whose `affects` are BOM-Links into the version's CycloneDX SBOM. "
    "cyclonedx-vdr: every finding with its rating and, when one speaks for it, its analysis. The vendor's "
    "statements; your own analyses too with includeTenant=true. A strong ETag; 304 on If-None-Match.",
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                CYCLONEDX_MEDIA_TYPE: {"schema": {"type": "object"}},
            },
            "description": "The document.",
        },
        304: {"description": "Not modified: the client's If-None-Match holds the current ETag."},
        **error_responses(400, 404),
    },
)
async def download_vex(
    image_id: PathId,
    version_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
    kind: Annotated[
        ExportFormat, Query(alias="format", description="openvex (the default), cyclonedx or cyclonedx-vdr.")
    ] = "openvex",
    include_tenant: Annotated[
        bool, Query(alias="includeTenant", description="Also your own analyses (they win over the vendor's).")
    ] = False,
    if_none_match: IfNoneMatch = None,
) -> Response:
    document = await VexExports(db, runtime.clock, runtime.finding_lists, runtime.read_cache).document(
        actor.tenant_id, image_id, version_id, kind, include_tenant=include_tenant
    )
    headers = {"ETag": strong_etag(document.sha256), "Cache-Control": "private"}
    if none_match(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    stem = _UNSAFE_IN_FILENAME.sub("-", f"{document.image_name}-{document.label}")
    headers["Content-Disposition"] = f'attachment; filename="{stem}.{_EXTENSIONS[kind]}"'
    return Response(content=document.content, media_type=_MEDIA_TYPES[kind], headers=headers)
