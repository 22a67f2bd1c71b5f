"""Every event's data is a typed model, and the OpenAPI `webhooks` section describes exactly what the
portal sends."""

import json
from typing import Any

import httpx
import jsonschema
from sqlalchemy import select

from portal.demo import run_demo
from portal.events import EventType, OutboxEvent
from portal.kit.tenancy import scoped
from portal.requests.models import RequestStatus
from portal.requests.service import FeatureRequestService
from portal.runtime import Runtime
from portal.tenants.repository import TenantRepository
from portal.users.models import Role
from portal.webhooks.fanout import delivery_body
from portal.webhooks.payloads import EVENT_PAYLOADS
from tests.factories import OPERATOR, make_caller


def test_every_event_type_has_one_payload_model() -> None:
    assert set(EVENT_PAYLOADS) == set(EventType)
    assert all(payload.event_type == event_type for event_type, payload in EVENT_PAYLOADS.items())


async def test_every_event_the_portal_records_matches_the_documented_webhook(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    await run_demo(runtime, OPERATOR)
    async with runtime.db.transaction() as session:
        acme = await TenantRepository(session).by_slug("acme")
    assert acme is not None
    admin = await make_caller(runtime, client, Role.ADMIN, tenant=acme)
    filed = await client.post(
        "/api/feature-requests",
        headers=admin.headers,
        json={
            "type": "package",
            "title": "libvips",
            "description": "for thumbnails",
            "packageName": "libvips",
        },
    )
    async with runtime.db.transaction() as session:
        await FeatureRequestService(session, runtime.clock).set_status(
            OPERATOR, filed.json()["id"], RequestStatus.PLANNED, "next month"
        )
    hook = await client.post(
        "/api/webhooks",
        headers=admin.headers,
        json={"url": "https://hooks.example.com/a", "events": ["scan.completed"]},
    )
    assert (
        await client.post(f"/api/webhooks/{hook.json()['id']}/test", headers=admin.headers)
    ).status_code == 202

    document = (await client.get("/api/openapi.json")).json()
    async with runtime.db.transaction() as session:
        recorded = (await session.execute(scoped(select(OutboxEvent), OutboxEvent, acme.id))).scalars().all()
        seen: set[str] = set()
        for event in recorded:
            body = json.loads(delivery_body(event))
            operation = document["webhooks"][event.event_type]["post"]
            schema: dict[str, Any] = {
                **operation["requestBody"]["content"]["application/json"]["schema"],
                "components": document["components"],
            }
            jsonschema.Draft202012Validator(schema).validate(body)
            seen.add(event.event_type)
    assert {"scan.completed", "feature_request.created", "feature_request.updated", "webhook.test"} <= seen


async def test_a_payload_keeps_the_json_receivers_know(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await make_caller(runtime, client, Role.USER)
    filed = await client.post(
        "/api/feature-requests",
        headers=admin.headers,
        json={"type": "feature", "title": "More images", "description": "please"},
    )
    async with runtime.db.transaction() as session:
        (event,) = (
            await session.execute(scoped(select(OutboxEvent), OutboxEvent, admin.tenant.id))
        ).scalars()
    assert event.data == {
        "id": filed.json()["id"],
        "type": "feature",
        "title": "More images",
        "status": "open",
        "packageName": None,
        "imageId": None,
        # type and name came with API keys and the operator as creators; id and email stay for users
        "createdBy": {
            "type": "user",
            "id": admin.user.id,
            "name": admin.user.email,
            "email": admin.user.email,
        },
    }
