"""A version's scan history and each scan's findings, for tenants entitled to its image."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from portal.api.cached import cached
from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import CurrentActor, GuardedRoute
from portal.catalog.schemas import ScanSummaryOut
from portal.kit.pagination import Page, PageParams
from portal.kit.readcache import CATALOG, INTEL, SCANS
from portal.kit.schema import Rfc3339Input
from portal.scanning.listing import FINDINGS_PAGING, FindingFilters
from portal.scanning.models import Scan
from portal.scanning.schemas import FindingOut, ScanDetailOut, ScanOut, SeverityOut, finding_out
from portal.scanning.service import ScanService, scan_summary

router = APIRouter(prefix="/api/docker-images", tags=["scans"], route_class=GuardedRoute)


def _scan_out(scan: Scan, kev: dict[str, int]) -> ScanOut:
    return ScanOut(
        id=scan.id,
        scanned_at=scan.scanned_at,
        feed_version=scan.feed_version,
        summary=ScanSummaryOut(**scan_summary(scan), kev=kev.get(scan.id, 0)),
    )


@router.get(
    "/{image_id}/versions/{version_id}/scan-history",
    response_model=Page[ScanOut],
    summary="The version's scans, newest first",
    responses=error_responses(400, 404),
)
@cached(CATALOG, SCANS, INTEL)
async def scan_history(
    image_id: PathId,
    version_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    page: Annotated[PageParams, Depends(TimePaging)],
    since: Annotated[
        Rfc3339Input | None,
        Query(alias="from", description="Only scans at or after this RFC 3339 time."),
    ] = None,
    until: Annotated[
        Rfc3339Input | None,
        Query(alias="to", description="Only scans at or before this RFC 3339 time."),
    ] = None,
) -> Page[ScanOut]:
    service = ScanService(db)
    found = await service.history(actor.tenant_id, image_id, version_id, page, since=since, until=until)
    kev = await service.kev_counts(found.items)
    return Page[ScanOut](items=[_scan_out(scan, kev) for scan in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{image_id}/versions/{version_id}/scans/{scan_id}",
    response_model=ScanDetailOut,
    summary="One scan of the version with all its findings",
    responses=error_responses(404),
)
async def scan_detail(
    image_id: PathId, version_id: PathId, scan_id: PathId, actor: CurrentActor, db: DbSession
) -> ScanDetailOut:
    service = ScanService(db)
    scan, findings = await service.scan_detail(actor.tenant_id, image_id, version_id, scan_id)
    kev = await service.kev_counts([scan])
    return ScanDetailOut(
        **_scan_out(scan, kev).model_dump(),
        findings=[finding_out(finding) for finding in await service.with_signals(findings)],
    )


@router.get(
    "/{image_id}/versions/{version_id}/scans/{scan_id}/findings",
    response_model=Page[FindingOut],
    summary="The scan's findings, filtered, by severity or by risk, a page at a time",
    responses=error_responses(400, 404),
)
async def scan_findings(
    image_id: PathId,
    version_id: PathId,
    scan_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
    page: Annotated[PageParams, Depends(FINDINGS_PAGING)],
    sort: Annotated[
        Literal["severity", "risk"],
        Query(
            description="severity: most severe first, then id and package. risk: in CISA's KEV catalog "
            "first, then EPSS score, then CVSS score, then fixable first."
        ),
    ] = "severity",
    severity: Annotated[
        list[SeverityOut] | None, Query(description="Only these severities (repeat for several).")
    ] = None,
    kev: Annotated[bool | None, Query(description="Only findings in (true) or not in (false) KEV.")] = None,
    fixable: Annotated[bool | None, Query(description="Only findings with (true) or without a fix.")] = None,
    epss_min: Annotated[
        float | None,
        Query(alias="epssMin", ge=0, le=1, description="Only findings with an EPSS score at least this."),
    ] = None,
    package: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00]*$",
            description="A case-insensitive part of the package name or purl.",
        ),
    ] = None,
) -> Page[FindingOut]:
    filters = FindingFilters.of(list(severity or []), kev, fixable, epss_min, package)
    found = await ScanService(db, runtime.clock, runtime.finding_lists).findings_page(
        actor.tenant_id,
        image_id,
        version_id,
        scan_id,
        order=sort,
        filters=filters,
        page=page,
    )
    return Page[FindingOut](
        items=[finding_out(finding) for finding in found.items], next_cursor=found.next_cursor
    )
