"""`portal audit list`: the audit log of one tenant, or of all of them with the operator's own
vendor-wide actions (publishing, imports, scans)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.actions import AuditAction
from portal.audit.models import AuditEvent
from portal.audit.schemas import AuditFilter, audit_event_out
from portal.audit.service import AuditService
from portal.cli.context import JsonOption, console, fail, report, run_in_transaction
from portal.kit.pagination import every_item
from portal.runtime import Runtime
from portal.tenants.service import TenantService

app = typer.Typer(no_args_is_help=True, add_completion=False)

_RELATIVE = re.compile(r"^([0-9]+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `30m`, a date (`2026-11-01`, midnight UTC) or an ISO 8601 time (UTC unless zoned)."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"--since {text!r}: give 7d, 24h, 30m, a date (2026-11-01) or a time (2026-11-01T09:00:00Z)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("list")
def list_events(
    tenant: str | None = typer.Option(
        None, "--tenant", help="Only this tenant's events (default: every tenant and the vendor-wide ones)."
    ),
    since: str | None = typer.Option(None, "--since", help="7d, 24h, 30m, a date or an ISO 8601 time."),
    action: AuditAction | None = typer.Option(None, "--action", help="Only this action."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many events, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """The audit log, newest first: who did what, to what, from where, and whether it was allowed."""

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[list[AuditEvent], dict[str, str]]:
        tenants = {t.id: t.slug for t in await TenantService(session, runtime.clock).list()}
        tenant_id = (await TenantService(session, runtime.clock).get(tenant)).id if tenant else None
        found = AuditFilter(
            action=action.value if action else None,
            since=parse_since(since, runtime.clock()) if since else None,
        )
        service = AuditService(session, runtime.clock)
        events = await every_item(lambda page: service.page(tenant_id, found, page), at_most=limit)
        return events, tenants

    events, tenants = run_in_transaction(work)
    if as_json:
        report(True, {"items": [_event_json(event, tenants) for event in events]}, "")
        return
    table = Table("time", "tenant", "actor", "action", "outcome", "target", "client ip")
    for event in events:
        target = " ".join(part for part in (event.target_type, event.target_name or event.target_id) if part)
        table.add_row(
            event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            tenants.get(event.tenant_id or "", "-"),
            f"{event.actor_type}:{event.actor_name}",
            event.action,
            event.outcome,
            target or "-",
            event.client_ip or "-",
        )
    console.print(table)


def _event_json(event: AuditEvent, tenants: dict[str, str]) -> dict[str, Any]:
    data = audit_event_out(event, for_operator=True).model_dump(mode="json", by_alias=True)
    return {"tenant": tenants.get(event.tenant_id or ""), **data}
