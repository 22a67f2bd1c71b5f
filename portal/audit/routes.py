"""The tenant's audit log (admin): a page at a time, or all of it as NDJSON."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.audit.actions import AuditAction
from portal.audit.schemas import AuditEventOut, AuditFilter, audit_event_out
from portal.audit.service import AuditService, stream_events
from portal.auth.guard import AdminActor, GuardedRoute
from portal.kit.pagination import Page, PageParams
from portal.kit.schema import NO_NUL_PATTERN, Rfc3339Input

router = APIRouter(prefix="/api/audit-events", tags=["audit"], route_class=GuardedRoute)

NDJSON = "application/x-ndjson"


def audit_filter(
    actor: Annotated[
        str | None,
        Query(
            max_length=320,
            pattern=NO_NUL_PATTERN,
            description="A user's or API key's id, a user's email, or `operator`.",
        ),
    ] = None,
    action: Annotated[
        AuditAction | None, Query(description="One action (see the AuditAction schema).")
    ] = None,
    target_id: Annotated[
        str | None,
        Query(alias="targetId", max_length=200, pattern=NO_NUL_PATTERN, description="The id acted on."),
    ] = None,
    since: Annotated[Rfc3339Input | None, Query(description="Events at or after this RFC 3339 time.")] = None,
    until: Annotated[Rfc3339Input | None, Query(description="Events before this RFC 3339 time.")] = None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor,
        action=action.value if action is not None else None,
        target_id=target_id,
        since=since,
        until=until,
    )


Filter = Annotated[AuditFilter, Depends(audit_filter)]


@router.get(
    "",
    response_model=Page[AuditEventOut],
    summary="The tenant's audit events, newest first (admin)",
    responses=error_responses(400),
)
async def list_audit_events(
    actor: AdminActor, db: DbSession, found: Filter, page: Annotated[PageParams, Depends(TimePaging)]
) -> Page[AuditEventOut]:
    events = await AuditService(db).page(actor.tenant_id, found, page)
    return Page[AuditEventOut](
        items=[audit_event_out(e) for e in events.items], next_cursor=events.next_cursor
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Every matching audit event as NDJSON, newest first, streamed (admin)",
    responses={
        200: {
            "description": "One AuditEvent JSON object per line.",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/AuditEventOut"}}},
        },
        **error_responses(400),
    },
)
async def export_audit_events(actor: AdminActor, runtime: RuntimeDep, found: Filter) -> StreamingResponse:
    tenant_id = actor.tenant_id

    async def lines() -> AsyncIterator[bytes]:
        async for event in stream_events(runtime.db, tenant_id, found):
            yield audit_event_out(event).model_dump_json(by_alias=True).encode() + b"\n"

    return StreamingResponse(
        lines(),
        media_type=NDJSON,
        headers={"Content-Disposition": 'attachment; filename="audit-events.ndjson"'},
    )
