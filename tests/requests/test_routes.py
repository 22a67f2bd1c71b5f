import asyncio
import base64
import json

import httpx
from sqlalchemy import select

from portal.events import OutboxEvent
from portal.kit.tenancy import scoped
from portal.requests.models import RequestStatus
from portal.requests.service import FeatureRequestService
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import OPERATOR, Caller, make_caller

URL = "/api/feature-requests"


def package_request(name: str = "ripgrep", **extra: object) -> dict[str, object]:
    return {
        "type": "package",
        "title": f"Please add {name}",
        "description": "We grep a lot.",
        "packageName": name,
    } | extra


async def file(client: httpx.AsyncClient, caller: Caller, body: dict[str, object]) -> httpx.Response:
    return await client.post(URL, headers=caller.headers, json=body)


async def events(runtime: Runtime, tenant_id: str) -> list[OutboxEvent]:
    async with runtime.db.sessions() as session:
        statement = scoped(select(OutboxEvent), OutboxEvent, tenant_id).order_by(OutboxEvent.created_at)
        return list((await session.execute(statement)).scalars())


async def test_a_user_files_each_kind_of_request(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    published = await publish(runtime, "python")
    await grant(runtime, caller.tenant, "python")

    feature = await file(
        client, caller, {"type": "feature", "title": "SAML login", "description": "For our SSO."}
    )
    package = await file(client, caller, package_request("jq", imageId=published.image.id))
    bug = await file(
        client,
        caller,
        {
            "type": "bug",
            "title": "Broken symlink",
            "description": "in /usr/lib",
            "imageId": published.image.id,
        },
    )

    assert [r.status_code for r in (feature, package, bug)] == [201, 201, 201]
    body = package.json()
    assert body["type"] == "package" and body["packageName"] == "jq" and body["imageId"] == published.image.id
    assert body["status"] == "open"
    assert body["createdBy"] == {
        "type": "user",
        "id": caller.user.id,
        "name": caller.user.email,
        "email": caller.user.email,
    }
    assert body["history"] == [{"status": "open", "comment": None, "at": body["createdAt"]}]
    assert body["createdAt"].endswith("Z")
    assert feature.json()["packageName"] is None and feature.json()["imageId"] is None
    created = [
        e for e in await events(runtime, caller.tenant.id) if e.event_type == "feature_request.created"
    ]
    assert [e.data["id"] for e in created] == [feature.json()["id"], package.json()["id"], bug.json()["id"]]


async def test_validation_answers_field_level_details(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    cases = [
        ({"type": "feature", "title": "ab", "description": "x"}, ["title"], "too_short"),
        ({"type": "feature", "title": "      ", "description": "x"}, ["title"], "too_short"),
        ({"type": "feature", "title": " ab ", "description": "x"}, ["title"], "too_short"),
        ({"type": "feature", "title": "t" * 201, "description": "x"}, ["title"], "too_long"),
        ({"type": "feature", "title": "A title", "description": "d" * 10_001}, ["description"], "too_long"),
        ({"type": "wish", "title": "A title", "description": "x"}, ["type"], "invalid_enum"),
        ({"type": "package", "title": "A title", "description": "x"}, ["packageName"], "required"),
        (
            {"type": "bug", "title": "A title", "description": "x", "packageName": "jq"},
            ["packageName"],
            "unknown_field",
        ),
        ({"type": "feature", "title": "A title", "description": "x", "votes": 3}, ["votes"], "unknown_field"),
        ({"title": "A title", "description": "x"}, ["type"], "required"),
    ]
    for body, path, code in cases:
        response = await file(client, caller, body)
        assert response.status_code == 400, body
        details = response.json()["details"]
        assert {"path": path, "code": code} in [{"path": d["path"], "code": d["code"]} for d in details], (
            body,
            details,
        )


async def test_an_image_the_tenant_cannot_see_is_refused(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    hidden = await publish(runtime, "nginx")  # published, but not granted to this tenant
    for image_id in (hidden.image.id, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = await file(
            client, caller, {"type": "bug", "title": "It crashes", "description": "x", "imageId": image_id}
        )
        assert response.status_code == 400
        assert response.json()["details"][0]["path"] == ["imageId"]


async def test_viewers_cannot_file(runtime: Runtime, client: httpx.AsyncClient) -> None:
    viewer = await make_caller(runtime, client, Role.VIEWER)
    response = await file(client, viewer, package_request())
    assert (response.status_code, response.json()["error"]) == (403, "FORBIDDEN")
    assert (await client.get(URL, headers=viewer.headers)).status_code == 200


async def test_an_open_duplicate_package_request_answers_the_existing_one(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    first = await file(client, caller, package_request("ripgrep"))
    again = await file(client, caller, package_request("RipGrep", title="Need rg", description="again"))
    racing = await asyncio.gather(*(file(client, caller, package_request("fd")) for _ in range(4)))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert sorted(r.status_code for r in racing) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in racing}) == 1

    async with runtime.db.transaction() as session:
        await FeatureRequestService(session).set_status(
            OPERATOR, first.json()["id"], RequestStatus.DONE, "Shipped in 1.2"
        )
    reopened = await file(client, caller, package_request("ripgrep"))
    assert reopened.status_code == 201 and reopened.json()["id"] != first.json()["id"]


async def test_listing_is_newest_first_filtered_paginated_and_tenant_scoped(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.ADMIN)
    other = await make_caller(runtime, client, Role.ADMIN)
    ids = [(await file(client, caller, package_request(f"pkg{i}"))).json()["id"] for i in range(5)]
    ids.append(
        (await file(client, caller, {"type": "bug", "title": "A bug", "description": "x"})).json()["id"]
    )
    await file(client, other, package_request("theirs"))

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(URL, headers=caller.headers, params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))

    bugs = (await client.get(URL, headers=caller.headers, params={"type": "bug"})).json()["items"]
    assert [b["id"] for b in bugs] == [ids[-1]]
    async with runtime.db.transaction() as session:
        await FeatureRequestService(session).set_status(
            OPERATOR, ids[0], RequestStatus.PLANNED, "Next sprint"
        )
    planned = (await client.get(URL, headers=caller.headers, params={"status": "planned"})).json()["items"]
    assert [p["id"] for p in planned] == [ids[0]]
    bad = await client.get(URL, headers=caller.headers, params={"status": "shipped"})
    assert bad.status_code == 400 and bad.json()["details"][0]["path"] == ["query", "status"]

    theirs = (await client.get(URL, headers=other.headers)).json()["items"]
    assert len(theirs) == 1
    hidden = await client.get(f"{URL}/{ids[0]}", headers=other.headers)
    assert (hidden.status_code, hidden.json()["error"]) == (404, "NOT_FOUND")


async def test_status_history_carries_the_operators_comments(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    request_id = (await file(client, caller, package_request())).json()["id"]
    async with runtime.db.transaction() as session:
        service = FeatureRequestService(session)
        await service.set_status(OPERATOR, request_id, RequestStatus.UNDER_REVIEW, None)
        await service.set_status(OPERATOR, request_id, RequestStatus.DECLINED, "Licence is incompatible")

    body = (await client.get(f"{URL}/{request_id}", headers=caller.headers)).json()
    assert body["status"] == "declined"
    assert [(h["status"], h["comment"]) for h in body["history"]] == [
        ("open", None),
        ("under_review", None),
        ("declined", "Licence is incompatible"),
    ]
    updates = [
        e.data for e in await events(runtime, caller.tenant.id) if e.event_type == "feature_request.updated"
    ]
    assert [(u["status"], u["previousStatus"], u["comment"]) for u in updates] == [
        ("under_review", "open", None),
        ("declined", "under_review", "Licence is incompatible"),
    ]
    assert json.dumps(updates)  # event data is plain JSON


async def test_a_forged_cursor_is_a_validation_error_not_a_crash(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    for values in (["2024-01-01T00:00:00", "x"], ["not a time", "x"], [1, 2], ["2024-01-01T00:00:00Z"]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        response = await client.get(URL, headers=caller.headers, params={"cursor": cursor})
        assert response.status_code == 400, (values, response.text)
        assert response.json()["details"][0]["path"] == ["query", "cursor"]
