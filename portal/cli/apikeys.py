"""`portal api-keys list|revoke --tenant SLUG`: the operator's view of a tenant's API keys."""

from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from portal.apikeys.models import ApiKey
from portal.apikeys.service import ApiKeyService
from portal.cli.context import JsonOption, console, operator, report, run_in_transaction
from portal.kit.clock import rfc3339
from portal.kit.pagination import every_item
from portal.runtime import Runtime
from portal.tenants.service import TenantService

app = typer.Typer(no_args_is_help=True, add_completion=False)

TenantOption = typer.Option(..., "--tenant", help="The tenant's slug.")


def _key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": str(key.role),
        "createdBy": key.created_by.as_json(),
        "createdAt": rfc3339(key.created_at),
        "expiresAt": rfc3339(key.expires_at),
        "revokedAt": rfc3339(key.revoked_at) if key.revoked_at else None,
        "lastUsedAt": rfc3339(key.last_used_at) if key.last_used_at else None,
        "lastUsedIp": key.last_used_ip,
    }


@app.command("list")
def list_keys(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """A tenant's API keys, newest first (never their secrets)."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[ApiKey]:
        found = await TenantService(session, runtime.clock).get(tenant)
        service = ApiKeyService(session, runtime)
        return await every_item(lambda page: service.page(found.id, page))

    keys = run_in_transaction(work)
    if as_json:
        report(True, {"items": [_key_json(key) for key in keys]}, "")
        return
    table = Table("name", "prefix", "role", "created by", "expires", "last used", "state", "id")
    for key in keys:
        state = "revoked" if key.revoked_at else "active"
        table.add_row(
            key.name,
            key.prefix,
            str(key.role),
            key.created_by.email or key.created_by.name,
            key.expires_at.strftime("%Y-%m-%d"),
            key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
            state,
            key.id,
        )
    console.print(table)


@app.command("revoke")
def revoke(
    key: str = typer.Argument(..., help="The key's id, or its prefix as `list` shows it."),
    tenant: str = TenantOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke a key: refused at once by this portal's processes (within PORTAL_AUTH_CACHE_SECONDS)."""

    async def work(runtime: Runtime, session: AsyncSession) -> ApiKey:
        found = await TenantService(session, runtime.clock).get(tenant)
        return await ApiKeyService(session, runtime).revoke(operator().within(found.ref), key)

    revoked = run_in_transaction(work)
    report(as_json, _key_json(revoked), f"Revoked API key {revoked.name} ({revoked.prefix}...) of {tenant}")
