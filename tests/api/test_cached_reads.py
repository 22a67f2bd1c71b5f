"""Repeated reads answered ahead of the framework (`portal.api.cached_reads`): the same answer as the
route's own, every refusal the app's own, one access check and one cache lookup per request, and the
request counted under its route as any other."""

from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.conftest import client_for, make_settings
from tests.factories import Caller, make_caller, make_key_caller
from tests.fleet.test_metrics import metric

METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, metrics_token=METRICS_TOKEN)


@pytest.fixture
async def caller(runtime: Runtime, client: httpx.AsyncClient) -> Caller:
    caller = await make_caller(runtime, client)
    for name in ("python", "nginx"):
        await publish(runtime, name)
        await grant(runtime, caller.tenant, name)
    return caller


async def _paths(client: httpx.AsyncClient, caller: Caller) -> list[str]:
    """The three cached reads of one granted image: the catalog, its detail, a version's scan history."""
    items = (await client.get("/api/docker-images", headers=caller.headers)).json()["items"]
    image, version = items[0]["id"], items[0]["latestVersion"]["id"]
    return [
        "/api/docker-images?limit=1",
        f"/api/docker-images/{image}",
        f"/api/docker-images/{image}/versions/{version}/scan-history",
    ]


def _comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(name, value) for name, value in response.headers.items() if name not in {"x-request-id"}]
    return response.status_code, response.content, sorted(headers)


async def test_a_kept_answer_is_the_one_the_route_gave(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    for path in await _paths(client, caller):
        runtime.read_cache.clear()
        made = await client.get(path, headers=caller.headers)
        misses, hits = runtime.read_cache.stats.misses, runtime.read_cache.stats.hits
        kept = await client.get(path, headers=caller.headers)
        assert made.status_code == 200, made.text
        assert _comparable(kept) == _comparable(made), path
        assert (runtime.read_cache.stats.misses, runtime.read_cache.stats.hits) == (misses, hits + 1)


async def test_a_miss_is_looked_up_once_and_computed_once(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    path = (await _paths(client, caller))[1]
    runtime.read_cache.clear()
    misses, hits = runtime.read_cache.stats.misses, runtime.read_cache.stats.hits
    assert (await client.get(path, headers=caller.headers)).status_code == 200
    assert (runtime.read_cache.stats.misses, runtime.read_cache.stats.hits) == (misses + 1, hits)


async def test_refusals_are_the_apps_own_before_and_after_an_answer_is_kept(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    other = await make_caller(runtime, client)
    path = (await _paths(client, caller))[1]
    for _ in range(2):  # the first time nothing is kept, the second time the caller's answer is
        refused = {
            "no tenant": await client.get(path, headers={"Authorization": caller.headers["Authorization"]}),
            "no token": await client.get(path, headers={"X-Tenant": caller.tenant.slug}),
            "bad token": await client.get(
                path, headers={"X-Tenant": caller.tenant.slug, "Authorization": "Bearer not-a-token"}
            ),
            "other tenant": await client.get(path, headers={**other.headers, "X-Tenant": caller.tenant.slug}),
            "not granted": await client.get(path, headers=other.headers),
        }
        answers = {name: (r.status_code, r.json()["error"]) for name, r in refused.items()}
        assert answers == {
            "no tenant": (400, "TENANT_REQUIRED"),
            "no token": (401, "UNAUTHORIZED"),
            "bad token": (401, "UNAUTHORIZED"),
            "other tenant": (403, "TENANT_MISMATCH"),
            "not granted": (404, "NOT_FOUND"),
        }
        assert all("x-request-id" in r.headers for r in refused.values())
        assert (await client.get(path, headers=caller.headers)).status_code == 200


async def test_a_disabled_user_is_refused_though_an_answer_is_kept(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN, tenant=caller.tenant)
    assert (await client.get("/api/docker-images", headers=caller.headers)).status_code == 200
    disabled = await client.patch(
        f"/api/users/{caller.user.id}", headers=admin.headers, json={"active": False}
    )
    assert disabled.status_code == 200, disabled.text
    refused = await client.get("/api/docker-images", headers=caller.headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "UNAUTHORIZED")


async def test_an_api_keys_budget_counts_each_request_once(tmp_path: Path, database_url: str) -> None:
    runtime = Runtime.build(make_settings(tmp_path, database_url, api_key_rate_limit="3/minute"))
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            caller = await make_key_caller(runtime, client)
            await publish(runtime, "python")
            await grant(runtime, caller.tenant, "python")
            answers = [
                (await client.get("/api/docker-images", headers=caller.headers)).status_code for _ in range(4)
            ]
        assert answers == [200, 200, 200, 429]  # a miss, two kept answers, then the budget is spent
    finally:
        await runtime.close()


async def test_a_kept_answer_is_counted_under_its_route(
    runtime: Runtime, client: httpx.AsyncClient, caller: Caller
) -> None:
    for _ in range(3):
        assert (await client.get("/api/docker-images", headers=caller.headers)).status_code == 200
    scrape = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    counted = metric(
        scrape, "portal_http_requests_total", method="GET", route="/api/docker-images", status="200"
    )
    assert counted == 3
