from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.cli.context import JsonOption, console, operator, read_password, report, run_in_transaction
from portal.kit.pagination import every_item
from portal.runtime import Runtime
from portal.tenants.service import TenantService
from portal.users.models import Role, User
from portal.users.service import UserService

app = typer.Typer(no_args_is_help=True, add_completion=False)

TenantOption = typer.Option(..., "--tenant", help="The tenant's slug.")
EmailOption = typer.Option(..., "--email", help="The user's email address.")
PasswordStdinOption = typer.Option(False, "--password-stdin", help="Read the password from standard input.")


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": str(user.role), "active": user.active}


async def _in_tenant(runtime: Runtime, session: AsyncSession, slug: str) -> tuple[Actor, UserService]:
    """The operator acting in tenant `slug`, and the users service."""
    tenant = await TenantService(session, runtime.clock).get(slug)
    return operator().within(tenant.ref), UserService(session, runtime)


@app.command("create")
def create(
    tenant: str = TenantOption,
    email: str = EmailOption,
    role: Role = typer.Option(..., "--role", help="admin, user or viewer."),
    password_stdin: bool = PasswordStdinOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a user. The password is prompted for, or read from standard input; never an argument."""
    password = read_password(password_stdin)

    async def work(runtime: Runtime, session: AsyncSession) -> User:
        actor, users = await _in_tenant(runtime, session, tenant)
        return await users.create(actor, email, role, password)

    user = run_in_transaction(work)
    report(as_json, _user_json(user), f"Created {user.role} {user.email} in {tenant} ({user.id})")


@app.command("list")
def list_users(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's users, oldest first."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[User]:
        actor, users = await _in_tenant(runtime, session, tenant)
        return await every_item(lambda page: users.page(actor.tenant_id, page))

    found = run_in_transaction(work)
    if as_json:
        report(True, {"items": [_user_json(user) for user in found]}, "")
        return
    table = Table("email", "role", "active", "id")
    for user in found:
        # An invited user (added by a tenant admin) has no password until it activates.
        state = "no" if not user.active else "invited" if user.password_hash is None else "yes"
        table.add_row(user.email, str(user.role), state, user.id)
    console.print(table)


def _set_active(tenant: str, email: str, active: bool, as_json: bool) -> None:
    async def work(runtime: Runtime, session: AsyncSession) -> User:
        actor, users = await _in_tenant(runtime, session, tenant)
        return await users.set_active(actor, email, active)

    user = run_in_transaction(work)
    state = "Enabled" if active else "Disabled (refresh tokens revoked)"
    report(as_json, _user_json(user), f"{state}: {user.email} in {tenant}")


@app.command("disable")
def disable(tenant: str = TenantOption, email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """Disable a user: no login, no refresh, live access tokens refused."""
    _set_active(tenant, email, False, as_json)


@app.command("enable")
def enable(tenant: str = TenantOption, email: str = EmailOption, as_json: bool = JsonOption) -> None:
    """Enable a disabled user again."""
    _set_active(tenant, email, True, as_json)


@app.command("set-role")
def set_role(
    tenant: str = TenantOption,
    email: str = EmailOption,
    role: Role = typer.Option(..., "--role", help="admin, user or viewer."),
    as_json: bool = JsonOption,
) -> None:
    """Change a user's role (revokes its refresh tokens)."""

    async def work(runtime: Runtime, session: AsyncSession) -> User:
        actor, users = await _in_tenant(runtime, session, tenant)
        return await users.set_role(actor, email, role)

    user = run_in_transaction(work)
    report(as_json, _user_json(user), f"{user.email} in {tenant} is now {user.role}")


@app.command("set-password")
def set_password(
    tenant: str = TenantOption,
    email: str = EmailOption,
    password_stdin: bool = PasswordStdinOption,
    as_json: bool = JsonOption,
) -> None:
    """Set a new password (revokes the user's refresh tokens)."""
    password = read_password(password_stdin)

    async def work(runtime: Runtime, session: AsyncSession) -> User:
        actor, users = await _in_tenant(runtime, session, tenant)
        return await users.set_password(actor, email, password)

    user = run_in_transaction(work)
    report(as_json, _user_json(user), f"New password set for {user.email} in {tenant}")
