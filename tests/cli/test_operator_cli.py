"""The operator's command line, driven through its real entry point."""

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from portal.config import Settings
from portal.kit.pagination import MAX_LIMIT
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.service import UserService
from tests.factories import OPERATOR, login, make_tenant
from tests.operator import operator_cli, run, run_async


@pytest.fixture
def portal(settings: Settings) -> CliRunner:
    return operator_cli(settings)


def test_tenants_and_users_lifecycle(portal: CliRunner) -> None:
    created = json.loads(run(portal, "tenants", "create", "globex", "--name", "Globex", "--json"))
    assert created["slug"] == "globex" and created["id"]
    assert "already exists" in run(portal, "tenants", "create", "globex", "--name", "Again", ok=False)
    assert "DNS label" in run(portal, "tenants", "create", "Not_A_Slug", "--name", "x", ok=False)

    user = json.loads(
        run(
            portal,
            "users",
            "create",
            "--tenant",
            "globex",
            "--email",
            "Ops@Globex.example",
            "--role",
            "admin",
            "--password-stdin",
            "--json",
            stdin="a-long-enough-password\n",
        )
    )
    assert user == {"id": user["id"], "email": "ops@globex.example", "role": "admin", "active": True}
    assert "at least 12" in run(
        portal,
        "users",
        "create",
        "--tenant",
        "globex",
        "--email",
        "x@globex.example",
        "--role",
        "user",
        "--password-stdin",
        stdin="short\n",
        ok=False,
    )
    run(
        portal, "users", "set-role", "--tenant", "globex", "--email", "ops@globex.example", "--role", "viewer"
    )
    run(portal, "users", "disable", "--tenant", "globex", "--email", "ops@globex.example")
    listed = json.loads(run(portal, "users", "list", "--tenant", "globex", "--json"))
    assert listed["items"] == [{**user, "role": "viewer", "active": False}]
    run(portal, "users", "enable", "--tenant", "globex", "--email", "ops@globex.example")
    run(
        portal,
        "users",
        "set-password",
        "--tenant",
        "globex",
        "--email",
        "ops@globex.example",
        "--password-stdin",
        stdin="another-long-password\n",
    )
    assert "No tenant" in run(portal, "users", "list", "--tenant", "nobody", ok=False)


async def test_users_list_shows_every_user_oldest_first_however_many_pages(
    runtime: Runtime, portal: CliRunner
) -> None:
    tenant = await make_tenant(runtime)
    emails = [f"user-{n:03d}@example.com" for n in range(MAX_LIMIT + 1)]
    async with runtime.db.transaction() as session:
        for email in emails:
            await UserService(session, runtime).invite(OPERATOR.within(tenant.ref), email, Role.VIEWER)

    listed = json.loads(await run_async(portal, "users", "list", "--tenant", tenant.slug, "--json"))

    assert [user["email"] for user in listed["items"]] == emails


def test_password_is_prompted_when_not_on_stdin(portal: CliRunner) -> None:
    run(portal, "tenants", "create", "initech", "--name", "Initech")
    output = run(
        portal,
        "users",
        "create",
        "--tenant",
        "initech",
        "--email",
        "peter@initech.example",
        "--role",
        "user",
        stdin="tps-report-cover\ntps-report-cover\n",
    )
    assert "Created user peter@initech.example" in output
    assert "tps-report-cover" not in output.replace("Password:", "")


async def test_demo_is_idempotent_and_its_credentials_log_in(
    portal: CliRunner, client: httpx.AsyncClient, settings: Settings
) -> None:
    first = json.loads(await run_async(portal, "demo", "--json"))
    second = json.loads(await run_async(portal, "demo", "--json"))
    assert first == second
    assert first["tenant"] == "acme"
    assert {user["role"] for user in first["users"]} == {"admin", "user", "viewer"}
    assert oct(Path(settings.data_dir, "demo-credentials.json").stat().st_mode & 0o777) == "0o600"
    admin = next(user for user in first["users"] if user["role"] == "admin")
    response = await login(client, "acme", admin["email"], admin["password"])
    assert response.status_code == 200


def test_db_upgrade_is_repeatable(portal: CliRunner) -> None:
    assert "already has the newest schema" in run(portal, "db", "upgrade")
    assert "already has the newest schema" in run(portal, "db", "upgrade")
