"""A version's scan history and each scan's findings, for tenants entitled to its image."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from portal.api.dependencies import DbSession
from portal.api.openapi import error_responses
from portal.auth.guard import CurrentActor, GuardedRoute
from portal.catalog.schemas import ScanSummaryOut
from portal.kit.ids import PathId
from portal.kit.pagination import Page, PageParams, TimePaging
from portal.kit.schema import Rfc3339Input
from portal.scanning.findings import FoundVulnerability
from portal.scanning.models import Scan
from portal.scanning.schemas import FindingOut, PackageOut, ScanDetailOut, ScanOut
from portal.scanning.service import ScanService, scan_summary

router = APIRouter(prefix="/api/docker-images", tags=["scans"], route_class=GuardedRoute)


def _scan_out(scan: Scan) -> ScanOut:
    return ScanOut(
        id=scan.id,
        scanned_at=scan.scanned_at,
        feed_version=scan.feed_version,
        summary=ScanSummaryOut(**scan_summary(scan)),
    )


def _finding_out(finding: FoundVulnerability) -> FindingOut:
    return FindingOut(
        vulnerability_id=finding.vulnerability_id,
        aliases=list(finding.aliases),
        severity=finding.severity,
        cvss_score=finding.cvss_score,
        package=PackageOut(
            name=finding.package_name, version=finding.package_version, purl=finding.package_purl
        ),
        fixed_version=finding.fixed_version,
        status="affected",
    )


@router.get(
    "/{image_id}/versions/{version_id}/scan-history",
    response_model=Page[ScanOut],
    summary="The version's scans, newest first",
    responses=error_responses(400, 404),
)
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
    found = await ScanService(db).history(
        actor.tenant_id, image_id, version_id, page, since=since, until=until
    )
    return Page[ScanOut](items=[_scan_out(scan) for scan in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{image_id}/versions/{version_id}/scans/{scan_id}",
    response_model=ScanDetailOut,
    summary="One scan of the version with its findings",
    responses=error_responses(404),
)
async def scan_detail(
    image_id: PathId, version_id: PathId, scan_id: PathId, actor: CurrentActor, db: DbSession
) -> ScanDetailOut:
    scan, findings = await ScanService(db).scan_detail(actor.tenant_id, image_id, version_id, scan_id)
    return ScanDetailOut(
        **_scan_out(scan).model_dump(),
        findings=[_finding_out(finding) for finding in findings],
    )
