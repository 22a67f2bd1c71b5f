import json

import httpx
import pytest
from typer.testing import CliRunner

from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller
from tests.operator import operator_cli, run_async


@pytest.fixture
def portal(settings: Settings) -> CliRunner:
    return operator_cli(settings)


async def test_the_operator_lists_shows_and_answers_requests(
    runtime: Runtime, client: httpx.AsyncClient, portal: CliRunner
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    body = {"type": "package", "title": "Add ripgrep", "description": "Fast grep.", "packageName": "ripgrep"}
    request_id = (await client.post("/api/feature-requests", headers=caller.headers, json=body)).json()["id"]

    listed = json.loads(await run_async(portal, "requests", "list", "--tenant", caller.tenant.slug, "--json"))
    assert [item["id"] for item in listed["items"]] == [request_id]
    assert listed["items"][0]["tenant"] == caller.tenant.slug
    assert "Add ripgrep [ripgrep]" in await run_async(portal, "requests", "list")

    updated = json.loads(
        await run_async(portal, "requests", "set-status", request_id, "planned", "--comment", "Q3", "--json")
    )
    assert updated["status"] == "planned"
    shown = await run_async(portal, "requests", "show", request_id)
    assert "planned — Q3" in shown and "Fast grep." in shown

    open_ones = json.loads(await run_async(portal, "requests", "list", "--status", "open", "--json"))
    assert open_ones["items"] == []
    assert "No request" in await run_async(portal, "requests", "show", "nope", ok=False)
    assert "shipped" in await run_async(portal, "requests", "set-status", request_id, "shipped", ok=False)

    api_view = (await client.get(f"/api/feature-requests/{request_id}", headers=caller.headers)).json()
    assert api_view["history"][-1]["comment"] == "Q3"
