"""The tenant's audit log, for its admins: who did what, when and from where, newest first."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from portal.api.dependencies import DbSession
from portal.audit.actions import AuditAction
from portal.audit.schemas import AuditFilter, audit_event_out
from portal.audit.service import AuditService, stream_events
from portal.errors import Forbidden
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.web.dependencies import Page, SignedIn

router = APIRouter(include_in_schema=False)

EVENTS_PER_PAGE = 50
Text = Annotated[str | None, Query(max_length=320, pattern=NO_NUL_PATTERN)]
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]


def _admins_only(page: SignedIn) -> None:
    if not page.is_admin:
        raise Forbidden(f"The audit log is for admins; you have {page.actor.role.value}.")


def _filter(action: AuditAction | None, actor: str | None) -> AuditFilter:
    return AuditFilter(
        actor=actor or None,
        action=action.value if action is not None else None,
        target_id=None,
        since=None,
        until=None,
    )


@router.get("/audit")
async def audit_log(
    page: Page, db: DbSession, action: AuditAction | None = None, actor: Text = None, cursor: Cursor = None
) -> Response:
    _admins_only(page)
    events = await AuditService(db).page(
        page.actor.tenant_id, _filter(action, actor), PageParams(EVENTS_PER_PAGE, cursor or None)
    )
    page.section = "audit"
    return page.render(
        "audit.html",
        events=[audit_event_out(event) for event in events.items],
        next_cursor=events.next_cursor,
        actions=[a.value for a in AuditAction],
        query={"action": action.value if action else "", "actor": actor or ""},
    )


@router.get("/audit/export")
async def export_audit_log(page: Page, action: AuditAction | None = None, actor: Text = None) -> Response:
    """Every matching event as NDJSON, the same lines as `GET /api/audit-events/export`."""
    _admins_only(page)
    tenant_id, found = page.actor.tenant_id, _filter(action, actor)

    async def lines() -> AsyncIterator[bytes]:
        async for event in stream_events(page.runtime.db, tenant_id, found):
            yield audit_event_out(event).model_dump_json(by_alias=True).encode() + b"\n"

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit-events.ndjson"'},
    )
