"""CVE watches: every role reads them; only admins add and remove them."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import AdminActor, CurrentActor, GuardedRoute
from portal.auth.schemas import actor_out
from portal.kit.pagination import Page, PageParams
from portal.scanning.schemas import vex_out
from portal.watches.schemas import (
    AffectedPackageOut,
    AffectedVersionOut,
    CveWatchIn,
    CveWatchOut,
)
from portal.watches.service import WatchService, WatchView

router = APIRouter(prefix="/api/cve-watches", tags=["cve-watches"], route_class=GuardedRoute)


def _watch_out(view: WatchView) -> CveWatchOut:
    return CveWatchOut(
        id=view.watch.id,
        cve_id=view.watch.cve_id,
        note=view.watch.note,
        created_at=view.watch.created_at,
        created_by=actor_out(view.watch.created_by),
        status=view.status,
        affected=[
            AffectedVersionOut(
                image_id=a.image_id,
                image_name=a.image_name,
                version_id=a.version_id,
                tags=a.tags,
                packages=[
                    AffectedPackageOut(
                        name=p["name"] or "",
                        version=p["version"],
                        purl=p["purl"],
                        fixed_version=p["fixedVersion"],
                    )
                    for p in a.packages
                ],
            )
            for a in view.affected
        ],
        advisory_ids=view.advisory_ids,
        justification=view.vex.justification if view.vex is not None else None,
        vex=vex_out(view.vex) if view.vex is not None else None,
    )


@router.get(
    "",
    response_model=Page[CveWatchOut],
    summary="The tenant's CVE watches with their status, newest first",
    responses=error_responses(400),
)
async def list_watches(
    actor: CurrentActor,
    db: DbSession,
    runtime: RuntimeDep,
    page: Annotated[PageParams, Depends(TimePaging)],
) -> Page[CveWatchOut]:
    found = await WatchService(db, runtime.clock).page(actor.tenant_id, page)
    return Page[CveWatchOut](items=[_watch_out(view) for view in found.items], next_cursor=found.next_cursor)


@router.post(
    "",
    response_model=CveWatchOut,
    status_code=201,
    summary="Watch a CVE id (admin); watching it again answers the existing watch with 200",
    responses={
        200: {"model": CveWatchOut, "description": "The CVE was already watched: the existing watch."},
        **error_responses(400),
    },
)
async def watch_cve(
    body: CveWatchIn, actor: AdminActor, db: DbSession, response: Response, runtime: RuntimeDep
) -> CveWatchOut:
    view, created = await WatchService(db, runtime.clock).watch(actor, body.cve_id, body.note)
    if not created:
        response.status_code = 200
    return _watch_out(view)


@router.delete(
    "/{watch_id}",
    status_code=204,
    response_class=Response,
    summary="Stop watching a CVE (admin)",
    responses=error_responses(404),
)
async def unwatch_cve(watch_id: PathId, actor: AdminActor, db: DbSession, runtime: RuntimeDep) -> Response:
    await WatchService(db, runtime.clock).unwatch(actor, watch_id)
    return Response(status_code=204)
