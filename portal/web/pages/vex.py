"""VEX in the console: a finding's analysis (every role reads its history; admins record and withdraw
it), the version's VEX documents for download, and what changed between two versions of an image."""

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.api.path_ids import PathId
from portal.catalog.service import CatalogService
from portal.kit.conditional import strong_etag
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.scanning.diff import DiffService
from portal.users.models import Role
from portal.vex.exports import ExportFormat, VexExports
from portal.vex.schemas import (
    AnalysisIn,
    AnalysisJustification,
    AnalysisResponse,
    AnalysisState,
    VulnerabilityPathId,
)
from portal.vex.service import AnalysisInput
from portal.vex.triage import TriageService
from portal.web.dependencies import Page, SignedIn
from portal.web.forms import FormRefused, parse

router = APIRouter(include_in_schema=False)

_ANALYSIS = TypeAdapter(AnalysisIn)
_EXTENSIONS: dict[ExportFormat, str] = {
    "openvex": "openvex.json",
    "cyclonedx": "vex.cdx.json",
    "cyclonedx-vdr": "vdr.cdx.json",
}
_MEDIA_TYPES: dict[ExportFormat, str] = {
    "openvex": "application/json",
    "cyclonedx": "application/vnd.cyclonedx+json; version=1.5",
    "cyclonedx-vdr": "application/vnd.cyclonedx+json; version=1.5",
}
DONE = {"recorded": "Your analysis is recorded.", "withdrawn": "Your analysis is withdrawn."}
Done = Annotated[str | None, Query(max_length=20, pattern=NO_NUL_PATTERN)]
From = Annotated[str | None, Query(alias="from", max_length=36, pattern=NO_NUL_PATTERN)]
To = Annotated[str | None, Query(alias="to", max_length=36, pattern=NO_NUL_PATTERN)]


def _finding_path(image_id: str, version_id: str, vulnerability_id: str) -> str:
    return f"/images/{image_id}/versions/{version_id}/findings/{vulnerability_id}"


async def _finding_page(
    page: SignedIn,
    db: DbSession,
    image_id: str,
    version_id: str,
    vulnerability_id: str,
    *,
    done: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    tenant_id = page.actor.tenant_id
    detail = await CatalogService(db).image_detail(tenant_id, image_id)
    version = next((v for v in detail.versions if v.id == version_id), None)
    history = await TriageService(db, page.runtime.clock).history(
        tenant_id, image_id, version_id, vulnerability_id, PageParams(50)
    )
    page.section = "catalog"
    return page.render(
        "finding.html",
        status_code=400 if problems else 200,
        image=detail.image,
        version=version,
        vulnerability_id=vulnerability_id.upper(),
        history=history.items,
        states=get_args(AnalysisState),
        justifications=get_args(AnalysisJustification),
        responses=get_args(AnalysisResponse),
        done=DONE.get(done or ""),
        problems=problems or [],
    )


@router.get("/images/{image_id}/versions/{version_id}/findings/{vulnerability_id}")
async def finding(
    page: Page,
    db: DbSession,
    image_id: PathId,
    version_id: PathId,
    vulnerability_id: VulnerabilityPathId,
    done: Done = None,
) -> Response:
    return await _finding_page(page, db, image_id, version_id, vulnerability_id, done=done)


@router.post("/images/{image_id}/versions/{version_id}/findings/{vulnerability_id}")
async def record_analysis(
    page: Page, db: DbSession, image_id: PathId, version_id: PathId, vulnerability_id: VulnerabilityPathId
) -> Response:
    form = await page.form(Role.ADMIN)
    fields: dict[str, Any] = {
        "state": form.get("state"),
        "justification": form.optional("justification"),
        "detail": form.optional("detail"),
        "response": form.all("response"),
    }
    if expires := form.optional("expires_on"):
        fields["expiresAt"] = f"{expires}T23:59:59Z"
    try:
        body = parse(_ANALYSIS, fields)
    except FormRefused as refused:
        return await _finding_page(
            page, db, image_id, version_id, vulnerability_id, problems=refused.problems
        )
    analysis = AnalysisInput(
        state=body.state,
        justification=body.justification,
        detail=body.detail,
        response=tuple(body.response),
        expires_at=body.expires_at,
    )
    await TriageService(db, page.runtime.clock).record(
        page.actor, image_id, version_id, vulnerability_id, analysis
    )
    return RedirectResponse(
        _finding_path(image_id, version_id, vulnerability_id) + "?done=recorded", status_code=303
    )


@router.post("/images/{image_id}/versions/{version_id}/findings/{vulnerability_id}/withdraw")
async def withdraw_analysis(
    page: Page, db: DbSession, image_id: PathId, version_id: PathId, vulnerability_id: VulnerabilityPathId
) -> Response:
    await page.form(Role.ADMIN)
    await TriageService(db, page.runtime.clock).withdraw(page.actor, image_id, version_id, vulnerability_id)
    return RedirectResponse(
        _finding_path(image_id, version_id, vulnerability_id) + "?done=withdrawn", status_code=303
    )


@router.get("/images/{image_id}/versions/{version_id}/vex/{kind}")
async def vex_document(
    page: Page, db: DbSession, image_id: PathId, version_id: PathId, kind: ExportFormat
) -> Response:
    """The version's VEX as `GET .../vex?format=KIND&includeTenant=true` answers it: the vendor's
    statements and this tenant's own analyses, as the page shows them."""
    document = await VexExports(
        db, page.runtime.clock, page.runtime.finding_lists, page.runtime.read_cache
    ).document(page.actor.tenant_id, image_id, version_id, kind, include_tenant=True)
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in f"{document.image_name}-{document.label}")
    return Response(
        content=document.content,
        media_type=_MEDIA_TYPES[kind],
        headers={
            "ETag": strong_etag(document.sha256),
            "Content-Disposition": f'attachment; filename="{stem}.{_EXTENSIONS[kind]}"',
        },
    )


@router.get("/images/{image_id}/diff")
async def version_diff(
    page: Page, db: DbSession, image_id: PathId, before: From = None, after: To = None
) -> Response:
    diff = await DiffService(db, page.runtime.clock).for_tenant(
        page.actor.tenant_id, image_id, before or None, after or None
    )
    page.section = "catalog"
    return page.render("diff.html", diff=diff)
