"""Feature and package requests and bug reports: every role reads them; users and admins file them."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.api.path_ids import PathId
from portal.catalog.service import CatalogService
from portal.errors import NotFound
from portal.kit.pagination import MAX_LIMIT, PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.requests.models import RequestStatus, RequestType
from portal.requests.schemas import FeatureRequestIn
from portal.requests.service import FeatureRequestService, NewRequest
from portal.users.models import Role
from portal.web.dependencies import Page, SignedIn
from portal.web.forms import FormRefused, parse, refused_by_service

router = APIRouter(include_in_schema=False)

REQUESTS_PER_PAGE = 50
_REQUEST: TypeAdapter[FeatureRequestIn] = TypeAdapter(FeatureRequestIn)
DONE = {
    "filed": "Your request is filed; the vendor's answers will show in its history.",
    "existing": "A request for this package is already open: here it is.",
}
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]
Done = Annotated[str | None, Query(max_length=20, pattern=NO_NUL_PATTERN)]
EMPTY_FORM = {"type": "feature", "title": "", "description": "", "package_name": "", "image_id": ""}


async def _list(
    page: SignedIn,
    db: DbSession,
    *,
    status: RequestStatus | None = None,
    type: RequestType | None = None,
    cursor: str | None = None,
    problems: list[str] | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    tenant_id = page.actor.tenant_id
    found = await FeatureRequestService(db).list(
        tenant_id, PageParams(REQUESTS_PER_PAGE, cursor or None), status=status, type=type
    )
    images = await CatalogService(db).list_images(tenant_id, PageParams(MAX_LIMIT))
    page.section = "requests"
    return page.render(
        "requests.html",
        status_code=400 if problems else 200,
        requests=found.items,
        next_cursor=found.next_cursor,
        images=[image for image, _ in images.items],
        statuses=list(RequestStatus),
        types=list(RequestType),
        query={"status": status.value if status else "", "type": type.value if type else ""},
        problems=problems or [],
        entered=entered or EMPTY_FORM,
    )


@router.get("/requests")
async def requests(
    page: Page,
    db: DbSession,
    status: Annotated[RequestStatus | None, Query()] = None,
    type: Annotated[RequestType | None, Query()] = None,
    cursor: Cursor = None,
) -> Response:
    return await _list(page, db, status=status, type=type, cursor=cursor)


@router.post("/requests")
async def file_request(page: Page, db: DbSession) -> Response:
    form = await page.form(Role.USER)
    entered = {name: form.get(name) for name in EMPTY_FORM}
    fields: dict[str, str | None] = {
        "type": entered["type"],
        "title": entered["title"],
        "description": entered["description"],
        "imageId": form.optional("image_id"),
    }
    if entered["type"] == RequestType.PACKAGE:
        fields["packageName"] = entered["package_name"].strip()
    try:
        body = parse(_REQUEST, fields)
        new = NewRequest(
            type=body.type,
            title=body.title,
            description=body.description,
            package_name=getattr(body, "package_name", None),
            image_id=body.image_id,
        )
        try:
            view, created = await FeatureRequestService(db, page.runtime.clock).file(page.actor, new)
        except NotFound as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await _list(page, db, problems=refused.problems, entered=entered)
    done = "filed" if created else "existing"
    return RedirectResponse(f"/requests/{view.request.id}?done={done}", status_code=303)


@router.get("/requests/{request_id}")
async def request_detail(page: Page, db: DbSession, request_id: PathId, done: Done = None) -> Response:
    view = await FeatureRequestService(db).get(page.actor.tenant_id, request_id)
    image = None
    if view.request.image_id is not None:
        image = await CatalogService(db).visible_image(page.actor.tenant_id, view.request.image_id)
    page.section = "requests"
    return page.render("request.html", view=view, image=image, done=DONE.get(done or ""))
