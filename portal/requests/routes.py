from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import CurrentActor, GuardedRoute, UserRoleActor
from portal.auth.schemas import actor_out
from portal.kit.pagination import Page, PageParams
from portal.requests.models import RequestStatus, RequestType
from portal.requests.schemas import FeatureRequestIn, FeatureRequestOut, HistoryEntryOut, PackageIn
from portal.requests.service import FeatureRequestService, NewRequest, RequestView

router = APIRouter(prefix="/api/feature-requests", tags=["feature requests"], route_class=GuardedRoute)


def request_out(view: RequestView) -> FeatureRequestOut:
    request = view.request
    return FeatureRequestOut(
        id=request.id,
        type=request.type,
        title=request.title,
        description=request.description,
        package_name=request.package_name,
        image_id=request.image_id,
        status=request.status,
        created_at=request.created_at,
        updated_at=request.updated_at,
        created_by=actor_out(request.created_by),
        history=[HistoryEntryOut(status=c.status, comment=c.comment, at=c.at) for c in view.history],
    )


@router.post(
    "",
    response_model=FeatureRequestOut,
    status_code=status.HTTP_201_CREATED,
    summary="File a feature request, package request or bug report",
    responses={
        200: {
            "model": FeatureRequestOut,
            "description": "A package request for the same package is still open: that request, unchanged.",
        },
        **error_responses(404),
    },
)
async def file_request(
    body: FeatureRequestIn, actor: UserRoleActor, db: DbSession, runtime: RuntimeDep, response: Response
) -> FeatureRequestOut:
    new = NewRequest(
        type=body.type,
        title=body.title,
        description=body.description,
        package_name=body.package_name if isinstance(body, PackageIn) else None,
        image_id=body.image_id,
    )
    view, created = await FeatureRequestService(db, runtime.clock).file(actor, new)
    if not created:
        response.status_code = status.HTTP_200_OK
    return request_out(view)


@router.get("", response_model=Page[FeatureRequestOut], summary="Your tenant's requests, newest first")
async def list_requests(
    actor: CurrentActor,
    db: DbSession,
    page: Annotated[PageParams, Depends(TimePaging)],
    status_filter: Annotated[RequestStatus | None, Query(alias="status")] = None,
    type_filter: Annotated[RequestType | None, Query(alias="type")] = None,
) -> Page[FeatureRequestOut]:
    found = await FeatureRequestService(db).list(
        actor.tenant_id, page, status=status_filter, type=type_filter
    )
    return Page[FeatureRequestOut](items=[request_out(v) for v in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{request_id}",
    response_model=FeatureRequestOut,
    summary="One request with its status history",
    responses=error_responses(404),
)
async def get_request(request_id: PathId, actor: CurrentActor, db: DbSession) -> FeatureRequestOut:
    return request_out(await FeatureRequestService(db).get(actor.tenant_id, request_id))
