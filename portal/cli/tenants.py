import typer
from rich.table import Table

from portal.cli.context import JsonOption, console, operator, report, run_in_transaction
from portal.tenants.service import TenantService

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("create")
def create(
    slug: str, name: str = typer.Option(..., "--name", help="Display name."), as_json: bool = JsonOption
) -> None:
    """Create a tenant; SLUG is its subdomain and X-Tenant value."""
    tenant = run_in_transaction(lambda _rt, session: TenantService(session).create(operator(), slug, name))
    report(
        as_json,
        {"id": tenant.id, "slug": tenant.slug, "name": tenant.name},
        f"Created tenant {tenant.slug} ({tenant.id})",
    )


@app.command("list")
def list_tenants(as_json: bool = JsonOption) -> None:
    """List every tenant."""
    tenants = run_in_transaction(lambda _rt, session: TenantService(session).list())
    if as_json:
        report(True, {"items": [{"id": t.id, "slug": t.slug, "name": t.name} for t in tenants]}, "")
        return
    table = Table("slug", "name", "id")
    for tenant in tenants:
        table.add_row(tenant.slug, tenant.name, tenant.id)
    console.print(table)
