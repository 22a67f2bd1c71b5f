"""A version's scan history and each scan's findings, for tenants entitled to its image."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from portal.api.cached import cached
from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging, page_params
from portal.api.path_ids import PathId
from portal.auth.guard import CurrentActor, GuardedRoute
from portal.catalog.schemas import ScanSummaryOut
from portal.kit.ids import ID_TEXT
from portal.kit.pagination import Page, PageParams
from portal.kit.readcache import CATALOG, INTEL, SCANS, VEX
from portal.kit.schema import Rfc3339Input
from portal.scanning.diff import DiffService
from portal.scanning.listing import FINDINGS_CURSOR, FindingFilters
from portal.scanning.models import Scan
from portal.scanning.schemas import (
    DiffOut,
    FindingOut,
    ScanDetailOut,
    ScanOut,
    SeverityOut,
    diff_out,
    finding_out,
)
from portal.scanning.service import ScanService

ID_PATTERN = f"^{ID_TEXT}$"
_FINDINGS_PAGING = page_params(FINDINGS_CURSOR)

router = APIRouter(prefix="/api/docker-images", tags=["scans"], route_class=GuardedRoute)


def _scan_out(scan: Scan, summaries: dict[str, dict[str, int]]) -> ScanOut:
    return ScanOut(
        id=scan.id,
        scanned_at=scan.scanned_at,
        feed_version=scan.feed_version,
        summary=ScanSummaryOut(**summaries[scan.id]),
    )


@router.get(
    "/{image_id}/versions/{version_id}/scan-history",
    response_model=Page[ScanOut],
    summary="The version's scans, newest first",
    responses=error_responses(400, 404),
)
@cached(CATALOG, SCANS, INTEL, VEX)
async def scan_history(
    image_id: PathId,
    version_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
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
    service = ScanService(db, runtime.clock)
    found = await service.history(actor.tenant_id, image_id, version_id, page, since=since, until=until)
    summaries = await service.summaries(actor.tenant_id, found.items)
    return Page[ScanOut](
        items=[_scan_out(scan, summaries) for scan in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/{image_id}/versions/{version_id}/scans/{scan_id}",
    response_model=ScanDetailOut,
    summary="One scan of the version with all its findings (those VEX takes out included, with their vex)",
    responses=error_responses(404),
)
async def scan_detail(
    image_id: PathId,
    version_id: PathId,
    scan_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
) -> ScanDetailOut:
    service = ScanService(db, runtime.clock)
    scan, findings = await service.scan_detail(actor.tenant_id, image_id, version_id, scan_id)
    summaries = await service.summaries(actor.tenant_id, [scan])
    return ScanDetailOut(
        **_scan_out(scan, summaries).model_dump(),
        findings=[finding_out(finding) for finding in findings],
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
    page: Annotated[PageParams, Depends(_FINDINGS_PAGING)],
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
    include: Annotated[
        list[Literal["suppressed"]] | None,
        Query(
            description="suppressed: also the findings a VEX statement or your analysis marks "
            "not_affected, fixed or false_positive (hidden otherwise)."
        ),
    ] = None,
) -> Page[FindingOut]:
    filters = FindingFilters.of(
        list(severity or []), kev, fixable, epss_min, package, suppressed="suppressed" in (include or [])
    )
    found = await ScanService(db, runtime.clock, runtime.finding_lists, runtime.read_cache).findings_page(
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


@router.get(
    "/{image_id}/diff",
    response_model=DiffOut,
    summary="What changed between two versions: packages, vulnerabilities, hardening tags",
    description="Packages added, removed and changed (keyed by purl without version, so an upgrade reads "
    "from -> to); vulnerabilities fixed, introduced and still open (latest scans, after VEX, by alias "
    "group); hardening tags added and removed. Default: the version before the latest, and the latest.",
    responses=error_responses(400, 404),
)
async def version_diff(
    image_id: PathId,
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
    before: Annotated[
        str | None,
        Query(alias="from", pattern=ID_PATTERN, description="A version id (default: the one before `to`)."),
    ] = None,
    after: Annotated[
        str | None, Query(alias="to", pattern=ID_PATTERN, description="A version id (default: the latest).")
    ] = None,
) -> DiffOut:
    diff = await DiffService(db, runtime.clock).for_tenant(actor.tenant_id, image_id, before, after)
    return diff_out(diff)
