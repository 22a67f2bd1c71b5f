"""The catalog as a tenant browses it: images, an image's versions, a version's SBOMs, scans and findings."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.path_ids import PathId
from portal.catalog.routes import sbom_response
from portal.catalog.service import CatalogService
from portal.errors import NotFound
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.scanning.listing import FindingFilters
from portal.scanning.service import ScanService
from portal.vulns.severity import SEVERITY_ORDER, Severity
from portal.web.chart import history_chart
from portal.web.dependencies import Page, SignedIn

router = APIRouter(include_in_schema=False)

IMAGES_PER_PAGE = 50
FINDINGS_PER_PAGE = 50
SCANS_CHARTED = 30

Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL_PATTERN)]
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]
YesNo = Literal["", "yes", "no"]


def _yes_no(value: YesNo) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.get("/")
async def catalog(
    page: Page, db: DbSession, q: Text = None, tag: Text = None, cursor: Cursor = None
) -> Response:
    tenant_id = page.actor.tenant_id
    catalog = CatalogService(db)
    found = await catalog.list_images(
        tenant_id, PageParams(IMAGES_PER_PAGE, cursor or None), q=q or None, hardening_tag=tag or None
    )
    summaries = await _latest_summaries(page, db, [version.id for _, version in found.items])
    page.section = "catalog"
    return page.render(
        "catalog.html",
        images=[(image, version, summaries.get(version.id)) for image, version in found.items],
        next_cursor=found.next_cursor,
        tags=await catalog.hardening_tags(tenant_id),
        q=q or "",
        tag=tag or "",
    )


@router.get("/images/{image_id}")
async def image(page: Page, db: DbSession, image_id: PathId) -> Response:
    detail = await CatalogService(db).image_detail(page.actor.tenant_id, image_id)
    summaries = await _latest_summaries(page, db, [version.id for version in detail.versions])
    page.section = "catalog"
    return page.render(
        "image.html",
        image=detail.image,
        versions=[(version, summaries.get(version.id)) for version in detail.versions],
    )


async def _latest_summaries(
    page: SignedIn, db: DbSession, version_ids: list[str]
) -> dict[str, dict[str, int]]:
    """version id -> the open counts of its newest scan for the tenant (none for a version not scanned)."""
    latest = await ScanService(db, page.runtime.clock).latest_summaries(page.actor.tenant_id, version_ids)
    return {version_id: found.summary for version_id, found in latest.items()}


@router.get("/images/{image_id}/versions/{version_id}")
async def version(
    page: Page,
    db: DbSession,
    image_id: PathId,
    version_id: PathId,
    sort: Literal["severity", "risk"] = "severity",
    severity: Annotated[list[Severity] | None, Query()] = None,
    kev: YesNo = "",
    fixable: YesNo = "",
    package: Text = None,
    suppressed: YesNo = "",
    cursor: Cursor = None,
) -> Response:
    tenant_id = page.actor.tenant_id
    detail = await CatalogService(db).image_detail(tenant_id, image_id)
    chosen = next((v for v in detail.versions if v.id == version_id), None)
    if chosen is None:
        raise NotFound("No such image version.")
    scans = ScanService(db, page.runtime.clock, page.runtime.finding_lists, page.runtime.read_cache)
    history = await scans.history(tenant_id, image_id, version_id, PageParams(SCANS_CHARTED))
    # Open counts after VEX: what the vendor's statements and the tenant's analyses take out is apart.
    summaries = await scans.summaries(tenant_id, history.items)
    filters = FindingFilters.of(
        list(severity or []),
        _yes_no(kev),
        _yes_no(fixable),
        None,
        package or None,
        suppressed=suppressed == "yes",
    )
    findings = None
    if history.items:
        findings = await scans.findings_page(
            tenant_id,
            image_id,
            version_id,
            history.items[0].id,
            order=sort,
            filters=filters,
            page=PageParams(FINDINGS_PER_PAGE, cursor or None),
        )
    chart = history_chart([(scan.scanned_at, summaries[scan.id]) for scan in reversed(history.items)])
    # The versions are newest first: the one after this in the list was published before it.
    position = detail.versions.index(chosen)
    previous = detail.versions[position + 1] if position + 1 < len(detail.versions) else None
    page.section = "catalog"
    return page.render(
        "version.html",
        image=detail.image,
        version=chosen,
        history=[(scan, summaries[scan.id]) for scan in history.items],
        previous=previous,
        chart=chart,
        findings=findings,
        severities=SEVERITY_ORDER,
        query={
            "sort": sort,
            "severity": list(severity or []),
            "kev": kev,
            "fixable": fixable,
            "package": package or "",
            "suppressed": suppressed,
        },
    )


@router.get("/images/{image_id}/versions/{version_id}/sbom/{kind}")
async def sbom(
    page: Page, runtime: RuntimeDep, image_id: PathId, version_id: PathId, kind: Literal["spdx", "cyclonedx"]
) -> Response:
    return await sbom_response(runtime, page.actor.tenant_id, image_id, version_id, kind, None)
