"""Webhook signing secrets are encrypted at rest: a database dump alone cannot sign as the portal, and
`portal secrets rotate` moves every secret to a new key."""

import base64
import shutil
import sqlite3
import subprocess
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from portal.kit.encryption import SecretBox, SecretUnreadable, new_key
from portal.kit.tenancy import across_tenants
from portal.runtime import Runtime
from portal.users.models import Role
from portal.webhooks.models import WebhookSubscription
from tests import services
from tests.factories import make_caller
from tests.operator import operator_cli, run_async


def _dump(database_url: str) -> str:
    """What a backup of the database holds, as its own tools write it."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as connection:
            return "\n".join(connection.iterdump())
    if shutil.which("pg_dump") is None:
        services.unavailable("pg_dump", FileNotFoundError("pg_dump is not installed"))
    url = database_url.replace("postgresql+asyncpg://", "postgresql://")
    return subprocess.run(["pg_dump", url], capture_output=True, text=True, check=True).stdout


async def _subscribe(client: httpx.AsyncClient, runtime: Runtime) -> tuple[dict[str, Any], list[str]]:
    admin = await make_caller(runtime, client, Role.ADMIN)
    body = {"url": "https://hooks.example.com/at-rest", "events": ["scan.completed"]}
    created = (await client.post("/api/webhooks", headers=admin.headers, json=body)).json()
    rotated = (
        await client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=admin.headers)
    ).json()
    return created, [created["secret"], rotated["secret"]]


async def _stored(runtime: Runtime) -> list[tuple[str, str | None]]:
    async with runtime.db.sessions() as session:
        statement = across_tenants(select(WebhookSubscription.secret, WebhookSubscription.previous_secret))
        return [(row[0], row[1]) for row in await session.execute(statement)]


async def test_a_database_dump_holds_no_usable_webhook_secret(
    runtime: Runtime, client: httpx.AsyncClient, database_url: str
) -> None:
    _, secrets = await _subscribe(client, runtime)  # the first now signs as the previous secret
    dump = _dump(database_url)
    assert "webhook_subscriptions" in dump
    for secret in secrets:
        key = secret.removeprefix("whsec_")
        for form in (secret, key, base64.b64decode(key).hex()):
            assert form not in dump
    # What is stored is the secrets, under the portal's key.
    ((current, previous),) = await _stored(runtime)
    assert [runtime.secrets.decrypt(previous or ""), runtime.secrets.decrypt(current)] == secrets
    with pytest.raises(SecretUnreadable):
        SecretBox([new_key()]).decrypt(current)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_rotation_reencrypts_every_secret_under_the_new_key(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    _, secrets = await _subscribe(client, runtime)
    old = runtime.settings.effective_encryption_keys[0]
    new = new_key()
    cli = operator_cli(runtime.settings)
    refused = CliRunner(env={**cli.env, "PORTAL_ENCRYPTION_KEY": new_key()})
    assert "nothing was changed" in await run_async(refused, "secrets", "rotate", ok=False)

    both = CliRunner(env={**cli.env, "PORTAL_ENCRYPTION_KEY": f"{new},{old}"})
    assert '"reencrypted": 1' in await run_async(both, "secrets", "rotate", "--json")
    ((current, previous),) = await _stored(runtime)
    assert [SecretBox([new]).decrypt(previous or ""), SecretBox([new]).decrypt(current)] == secrets
    with pytest.raises(SecretUnreadable):
        SecretBox([old]).decrypt(current)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_rotation_with_the_key_kept_in_the_data_directory(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    _, secrets = await _subscribe(client, runtime)
    key_file = runtime.settings.encryption_key_file
    (old,) = key_file.read_text().split()
    await run_async(operator_cli(runtime.settings), "secrets", "rotate", "--generate")
    (new,) = key_file.read_text().split()
    assert new != old
    ((current, _previous),) = await _stored(runtime)
    assert SecretBox([new]).decrypt(current) == secrets[1]
