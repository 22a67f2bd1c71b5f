"""CVE watches: every role sees them with their live status; admins add and remove them."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.api.path_ids import PathId
from portal.errors import ValidationFailed
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.users.models import Role
from portal.watches.schemas import CveWatchIn
from portal.watches.service import WatchService
from portal.web.dependencies import Page, SignedIn
from portal.web.forms import FormRefused, parse, refused_by_service

router = APIRouter(include_in_schema=False)

WATCHES_PER_PAGE = 50
_WATCH = TypeAdapter(CveWatchIn)
DONE = {
    "added": "The CVE is watched; its status below is computed from your images' latest scans.",
    "existing": "That CVE was already watched.",
    "removed": "The watch is removed.",
}
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]
Done = Annotated[str | None, Query(max_length=20, pattern=NO_NUL_PATTERN)]


async def _list(
    page: SignedIn,
    db: DbSession,
    cursor: str | None,
    *,
    done: str | None = None,
    problems: list[str] | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    found = await WatchService(db).page(page.actor.tenant_id, PageParams(WATCHES_PER_PAGE, cursor or None))
    page.section = "watches"
    return page.render(
        "watches.html",
        status_code=400 if problems else 200,
        watches=found.items,
        next_cursor=found.next_cursor,
        done=DONE.get(done or ""),
        problems=problems or [],
        entered=entered or {"cve_id": "", "note": ""},
    )


@router.get("/watches")
async def watches(page: Page, db: DbSession, cursor: Cursor = None, done: Done = None) -> Response:
    return await _list(page, db, cursor, done=done)


@router.post("/watches")
async def add_watch(page: Page, db: DbSession) -> Response:
    form = await page.form(Role.ADMIN)
    entered = {"cve_id": form.get("cve_id").strip(), "note": form.get("note")}
    try:
        body = parse(_WATCH, {"cveId": entered["cve_id"], "note": form.optional("note")})
        try:
            _view, created = await WatchService(db).watch(page.actor, body.cve_id, body.note)
        except ValidationFailed as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await _list(page, db, None, problems=refused.problems, entered=entered)
    return RedirectResponse(f"/watches?done={'added' if created else 'existing'}", status_code=303)


@router.post("/watches/{watch_id}/delete")
async def remove_watch(page: Page, db: DbSession, watch_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    await WatchService(db).unwatch(page.actor, watch_id)
    return RedirectResponse("/watches?done=removed", status_code=303)
