"""The webhooks API as a tenant's integration engineer uses it, on SQLite and PostgreSQL."""

import asyncio
from typing import Any

import httpx
import pytest

from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import Caller, make_caller, make_tenant

URL = "https://hooks.example.com/portal"


async def create(client: httpx.AsyncClient, caller: Caller, **body: Any) -> httpx.Response:
    return await client.post(
        "/api/webhooks", headers=caller.headers, json={"url": URL, "events": ["scan.completed"], **body}
    )


@pytest.fixture
async def admin(runtime: Runtime, client: httpx.AsyncClient) -> Caller:
    return await make_caller(runtime, client, Role.ADMIN)


async def test_post_creates_then_upserts_by_exact_url(client: httpx.AsyncClient, admin: Caller) -> None:
    created = await create(client, admin, description="dashboard")
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body == {
        "id": body["id"],
        "url": URL,
        "events": ["scan.completed"],
        "description": "dashboard",
        "active": True,
        "disabledReason": None,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
        "secret": body["secret"],
    }
    assert body["createdAt"].endswith("Z")

    updated = await create(client, admin, events=["cve.watch.matched", "scan.completed"], active=False)
    assert updated.status_code == 200
    assert "secret" not in updated.json()
    assert updated.json()["id"] == body["id"]
    assert updated.json()["events"] == ["cve.watch.matched", "scan.completed"]
    assert updated.json()["description"] == "dashboard"  # left out, so kept
    assert updated.json()["active"] is False

    other = await client.post(
        "/api/webhooks", headers=admin.headers, json={"url": URL + "/", "events": ["webhook.test"]}
    )
    assert other.status_code == 201  # not the exact URL: another subscription

    listed = await client.get("/api/webhooks", headers=admin.headers)
    assert [item["url"] for item in listed.json()["items"]] == [URL, URL + "/"]
    assert all("secret" not in item for item in listed.json()["items"])
    one = await client.get(f"/api/webhooks/{body['id']}", headers=admin.headers)
    assert one.status_code == 200 and "secret" not in one.json()


async def test_concurrent_posts_of_one_url_upsert_the_one_subscription_that_won(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    racing = await asyncio.gather(*(create(client, admin, description=f"race {n}") for n in range(5)))

    assert sorted(r.status_code for r in racing) == [200, 200, 200, 200, 201], [r.text for r in racing]
    assert len({r.json()["id"] for r in racing}) == 1
    assert ["secret" in r.json() for r in racing if r.status_code == 200] == [False] * 4
    listed = (await client.get("/api/webhooks", headers=admin.headers)).json()["items"]
    assert [item["id"] for item in listed] == [racing[0].json()["id"]]


async def test_the_list_is_paginated(client: httpx.AsyncClient, admin: Caller) -> None:
    for index in range(3):
        assert (await create(client, admin, url=f"{URL}/{index}")).status_code == 201
    first = (await client.get("/api/webhooks?limit=2", headers=admin.headers)).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = (
        await client.get(f"/api/webhooks?limit=2&cursor={first['nextCursor']}", headers=admin.headers)
    ).json()
    assert [i["url"] for i in first["items"] + second["items"]] == [f"{URL}/{i}" for i in range(3)]
    assert second["nextCursor"] is None
    bad = await client.get("/api/webhooks?cursor=bm9wZQ", headers=admin.headers)
    assert bad.status_code == 400 and bad.json()["details"][0]["path"] == ["query", "cursor"]


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"events": []}, ["events"], "too_short"),
        ({"events": ["scan.completed", "image.deleted"]}, ["events", 1], "invalid_enum"),
        ({"events": ["scan.completed", "webhook.test", "scan.completed"]}, ["events", 2], "invalid_format"),
        ({"url": "http://hooks.example.com/"}, ["url"], "invalid_format"),
        ({"url": "https://10.1.2.3/hook"}, ["url"], "invalid_format"),
        ({"url": "https://[::ffff:169.254.169.254]/"}, ["url"], "invalid_format"),
        ({"secret": "whsec_mine"}, ["secret"], "unknown_field"),
        ({"url": None}, ["url"], "invalid_type"),
    ],
)
async def test_validation_names_the_field(
    client: httpx.AsyncClient, admin: Caller, body: dict[str, Any], path: list[Any], code: str
) -> None:
    response = await create(client, admin, **body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert [(d["path"], d["code"]) for d in response.json()["details"]] == [(path, code)]


async def test_a_refused_url_says_why(client: httpx.AsyncClient, admin: Caller) -> None:
    plain = (await create(client, admin, url="http://hooks.example.com/")).json()
    assert plain["details"][0]["message"] == (
        "the URL must start with https:// (PORTAL_WEBHOOK_ALLOW_PRIVATE=true on the portal allows "
        "http://, for development)"
    )
    metadata = (await create(client, admin, url="https://169.254.169.254/latest")).json()
    assert "link-local" in metadata["message"] and "metadata" in metadata["details"][0]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://LOCALHOST.:8443/",
        "https://hooks.localhost/",
        "https://printer.local/",
        "https://ci.internal/hook",
        "https://nas.home.arpa/",
        "https://127.0.0.1:8080/",
        "https://192.168.1.10/",
    ],
)
async def test_a_local_target_is_refused_when_saved_naming_the_development_setting(
    client: httpx.AsyncClient, admin: Caller, url: str
) -> None:
    response = await create(client, admin, url=url)

    assert response.status_code == 400, response.text
    assert "PORTAL_WEBHOOK_ALLOW_PRIVATE=true" in response.json()["message"]
    assert response.json()["details"][0]["path"] == ["url"]
    assert (await client.get("/api/webhooks", headers=admin.headers)).json()["items"] == []


async def test_put_changes_only_what_it_is_given(client: httpx.AsyncClient, admin: Caller) -> None:
    original = (await create(client, admin, description="first")).json()
    path = f"/api/webhooks/{original['id']}"
    described = await client.put(path, headers=admin.headers, json={"description": "second"})
    assert described.status_code == 200
    assert {k: v for k, v in described.json().items() if k not in ("description", "updatedAt")} == {
        k: v for k, v in original.items() if k not in ("description", "updatedAt", "secret")
    }
    assert described.json()["description"] == "second"

    moved = await client.put(
        path, headers=admin.headers, json={"url": URL + "/v2", "events": ["feature_request.created"]}
    )
    assert (moved.json()["url"], moved.json()["events"], moved.json()["description"]) == (
        URL + "/v2",
        ["feature_request.created"],
        "second",
    )
    cleared = await client.put(path, headers=admin.headers, json={"description": None, "active": False})
    assert (cleared.json()["description"], cleared.json()["active"]) == (None, False)
    assert (await client.put(path, headers=admin.headers, json={"active": True})).json()["active"] is True

    null_events = await client.put(path, headers=admin.headers, json={"events": None})
    assert null_events.status_code == 400 and null_events.json()["details"][0]["path"] == ["events"]
    bad_url = await client.put(path, headers=admin.headers, json={"url": "ftp://x.example.com/"})
    assert bad_url.status_code == 400 and bad_url.json()["details"][0]["path"] == ["url"]

    taken = (await create(client, admin, url=URL + "/taken")).json()
    clash = await client.put(path, headers=admin.headers, json={"url": taken["url"]})
    assert clash.status_code == 409 and clash.json()["error"] == "CONFLICT"


async def test_delete(client: httpx.AsyncClient, admin: Caller) -> None:
    created = (await create(client, admin)).json()
    path = f"/api/webhooks/{created['id']}"
    assert (await client.delete(path, headers=admin.headers)).status_code == 204
    assert (await client.get(path, headers=admin.headers)).status_code == 404
    assert (await client.delete(path, headers=admin.headers)).status_code == 404


async def test_rotation_returns_a_new_secret_once(client: httpx.AsyncClient, admin: Caller) -> None:
    created = (await create(client, admin)).json()
    rotated = await client.post(f"/api/webhooks/{created['id']}/rotate-secret", headers=admin.headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]
    shown = (await client.get(f"/api/webhooks/{created['id']}", headers=admin.headers)).json()
    assert "secret" not in shown


async def test_test_and_redeliver_queue_deliveries(client: httpx.AsyncClient, admin: Caller) -> None:
    created = (await create(client, admin)).json()  # subscribed to scan.completed only
    base = f"/api/webhooks/{created['id']}"
    queued = await client.post(f"{base}/test", headers=admin.headers)
    assert queued.status_code == 202
    delivery = queued.json()
    assert delivery == {
        "id": delivery["id"],
        "eventType": "webhook.test",
        "webhookId": delivery["webhookId"],
        "status": "pending",
        "createdAt": delivery["createdAt"],
        "nextAttemptAt": delivery["nextAttemptAt"],
        "attempts": [],
    }
    assert delivery["webhookId"].startswith("msg_")
    second = (await client.post(f"{base}/test", headers=admin.headers)).json()

    listed = (await client.get(f"{base}/deliveries", headers=admin.headers)).json()
    assert [d["id"] for d in listed["items"]] == [second["id"], delivery["id"]]  # newest first
    page = (await client.get(f"{base}/deliveries?limit=1", headers=admin.headers)).json()
    rest = (await client.get(f"{base}/deliveries?cursor={page['nextCursor']}", headers=admin.headers)).json()
    assert [d["id"] for d in page["items"] + rest["items"]] == [second["id"], delivery["id"]]

    again = await client.post(f"{base}/deliveries/{delivery['id']}/redeliver", headers=admin.headers)
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["webhookId"], again.json()["status"]) == (
        delivery["id"],
        delivery["webhookId"],
        "pending",
    )
    missing = await client.post(f"{base}/deliveries/{created['id']}/redeliver", headers=admin.headers)
    assert missing.status_code == 404


async def test_other_roles_read_but_may_not_write(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller
) -> None:
    created = (await create(client, admin)).json()
    delivery = (await client.post(f"/api/webhooks/{created['id']}/test", headers=admin.headers)).json()
    base = f"/api/webhooks/{created['id']}"
    for role in (Role.VIEWER, Role.USER):
        caller = await make_caller(runtime, client, role, admin.tenant)
        for method, path in [("GET", "/api/webhooks"), ("GET", base), ("GET", f"{base}/deliveries")]:
            assert (await client.request(method, path, headers=caller.headers)).status_code == 200
        writes = [
            ("POST", "/api/webhooks", {"url": URL + "/x", "events": ["scan.completed"]}),
            ("PUT", base, {"active": False}),
            ("DELETE", base, None),
            ("POST", f"{base}/rotate-secret", None),
            ("POST", f"{base}/test", None),
            ("POST", f"{base}/deliveries/{delivery['id']}/redeliver", None),
        ]
        for method, path, json in writes:
            response = await client.request(method, path, headers=caller.headers, json=json)
            assert (role, method, path, response.status_code, response.json()["error"]) == (
                role,
                method,
                path,
                403,
                "FORBIDDEN",
            )
    listed = (await client.get(f"{base}/deliveries", headers=admin.headers)).json()["items"]
    assert len(listed) == 1  # nothing was queued by the refused writes


async def test_another_tenants_ids_do_not_exist(
    runtime: Runtime, client: httpx.AsyncClient, admin: Caller
) -> None:
    created = (await create(client, admin)).json()
    delivery = (await client.post(f"/api/webhooks/{created['id']}/test", headers=admin.headers)).json()
    stranger = await make_caller(runtime, client, Role.ADMIN, await make_tenant(runtime))
    base = f"/api/webhooks/{created['id']}"
    for method, path, json in [
        ("GET", base, None),
        ("PUT", base, {"active": False}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/test", None),
        ("POST", f"{base}/deliveries/{delivery['id']}/redeliver", None),
    ]:
        response = await client.request(method, path, headers=stranger.headers, json=json)
        assert (method, path, response.status_code) == (method, path, 404)
    assert (await client.get("/api/webhooks", headers=stranger.headers)).json()["items"] == []
    # The same URL is free in another tenant: the upsert is per tenant.
    assert (await create(client, stranger)).status_code == 201


async def test_active_must_be_a_boolean_not_a_number(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    body = {"url": "https://hooks.example.com/strict", "events": ["scan.completed"], "active": 0}
    created = await client.post("/api/webhooks", headers=admin.headers, json=body)
    assert created.status_code == 400 and created.json()["details"][0]["path"] == ["active"]
