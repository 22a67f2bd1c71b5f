from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cli.context import JsonOption, console, operator, report, run_in_transaction
from portal.kit.clock import rfc3339
from portal.kit.pagination import every_item
from portal.requests.models import RequestStatus
from portal.requests.service import FeatureRequestService, RequestView
from portal.runtime import Runtime
from portal.tenants.service import TenantService

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _json(view: RequestView) -> dict[str, Any]:
    request = view.request
    return {
        "id": request.id,
        "tenant": view.tenant.slug,
        "type": str(request.type),
        "title": request.title,
        "description": request.description,
        "packageName": request.package_name,
        "imageId": request.image_id,
        "status": str(request.status),
        "createdAt": rfc3339(request.created_at),
        "updatedAt": rfc3339(request.updated_at),
        "createdBy": request.created_by.as_json(),
        "history": [
            {"status": str(change.status), "comment": change.comment, "at": rfc3339(change.at)}
            for change in view.history
        ],
    }


@app.command("list")
def list_requests(
    tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's requests."),
    status: RequestStatus | None = typer.Option(None, "--status", help="Only requests in this status."),
    as_json: bool = JsonOption,
) -> None:
    """List requests, newest first (all tenants unless --tenant)."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[RequestView]:
        service = FeatureRequestService(session, runtime.clock)
        tenant_id = (await TenantService(session).get(tenant)).id if tenant else None
        return await every_item(lambda page: service.list(tenant_id, page, status=status))

    views = run_in_transaction(work)
    if as_json:
        report(True, {"items": [_json(view) for view in views]}, "")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=36)  # whole, so it can be pasted into `show`
    for column in ("tenant", "type", "status", "title", "filed"):
        table.add_column(column)
    for view in views:
        request = view.request
        title = request.title if not request.package_name else f"{request.title} [{request.package_name}]"
        table.add_row(
            request.id,
            view.tenant.slug,
            str(request.type),
            str(request.status),
            escape(title),
            request.created_at.strftime("%Y-%m-%d"),
        )
    console.print(table)


@app.command("show")
def show(request_id: str, as_json: bool = JsonOption) -> None:
    """Show one request with its status history."""
    view = run_in_transaction(
        lambda runtime, session: FeatureRequestService(session, runtime.clock).show(request_id)
    )
    if as_json:
        report(True, _json(view), "")
        return
    request = view.request
    console.print(f"[bold]{request.title}[/bold]  ({request.type}, {request.status})", highlight=False)
    console.print(
        f"id {request.id} · tenant {view.tenant.slug} · by {request.created_by.name}", highlight=False
    )
    if request.package_name:
        console.print(f"package: {request.package_name}", highlight=False)
    if request.image_id:
        console.print(f"image: {request.image_id}", highlight=False)
    console.print()
    console.print(request.description, highlight=False, markup=False)
    console.print()
    for change in view.history:
        comment = f" — {change.comment}" if change.comment else ""
        console.print(f"{change.at:%Y-%m-%d %H:%M} {change.status}{comment}", highlight=False, markup=False)


@app.command("set-status")
def set_status(
    request_id: str,
    status: RequestStatus,
    comment: str | None = typer.Option(None, "--comment", help="A note for the tenant, kept in the history."),
    as_json: bool = JsonOption,
) -> None:
    """Move a request to STATUS (open, under_review, planned, in_progress, done, declined)."""
    view = run_in_transaction(
        lambda runtime, session: FeatureRequestService(session, runtime.clock).set_status(
            operator(), request_id, status, comment
        )
    )
    report(as_json, _json(view), f"Request {view.request.id} is now {view.request.status}")
