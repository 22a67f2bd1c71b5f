"""Every id in a path is validated like the body and the query, against the grammar the OpenAPI states:
a malformed one (a NUL, anything not an id the API writes) names nothing and answers 404 in the stable
shape on every database, like a well-formed id of nothing."""

import httpx

from portal.kit.ids import new_id
from portal.runtime import Runtime
from portal.users.models import Role
from portal.vex.schemas import VULNERABILITY_ID_PATTERN
from tests.factories import make_caller
from tests.webhooks.factories import make_subscription

BAD_IDS = ["%00", "a%00b", "not-an-id", "%ED%A0%80", new_id().upper()]


async def test_a_malformed_path_id_is_not_found_on_every_database(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    webhook = (await make_subscription(runtime, admin.tenant, "https://hooks.example.com/x")).id
    some = new_id()
    for bad in BAD_IDS:
        calls = [
            ("GET", f"/api/docker-images/{bad}"),
            ("GET", f"/api/docker-images/{bad}/versions/{some}/sbom/spdx"),
            ("GET", f"/api/docker-images/{some}/versions/{bad}/sbom/cyclonedx"),
            ("GET", f"/api/docker-images/{some}/versions/{bad}/scan-history"),
            ("GET", f"/api/docker-images/{some}/versions/{some}/scans/{bad}"),
            ("GET", f"/api/docker-images/{bad}/versions/{some}/findings/CVE-2024-1/analysis"),
            ("DELETE", f"/api/docker-images/{some}/versions/{some}/findings/{bad}/analysis"),
            ("DELETE", f"/api/cve-watches/{bad}"),
            ("GET", f"/api/feature-requests/{bad}"),
            ("GET", f"/api/webhooks/{bad}"),
            ("PUT", f"/api/webhooks/{bad}"),
            ("DELETE", f"/api/webhooks/{bad}"),
            ("POST", f"/api/webhooks/{bad}/rotate-secret"),
            ("POST", f"/api/webhooks/{bad}/test"),
            ("GET", f"/api/webhooks/{bad}/deliveries"),
            ("POST", f"/api/webhooks/{webhook}/deliveries/{bad}/redeliver"),
        ]
        for method, path in calls:
            body = {"active": True} if method == "PUT" else None
            answer = await client.request(method, path, headers=admin.headers, json=body)
            assert (answer.status_code, answer.json()["error"]) == (404, "NOT_FOUND"), (
                method,
                path,
                answer.text,
            )


async def test_a_well_formed_unknown_id_is_not_found(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    for path in (
        f"/api/webhooks/{new_id()}",
        f"/api/feature-requests/{new_id()}",
        f"/api/docker-images/{new_id()}",
    ):
        assert (await client.get(path, headers=admin.headers)).status_code == 404
    assert (await client.delete(f"/api/cve-watches/{new_id()}", headers=admin.headers)).status_code == 404


async def test_every_path_id_declares_its_grammar(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "vulnerability_id":
                    assert parameter["schema"]["pattern"] == VULNERABILITY_ID_PATTERN, (path, parameter)
                elif parameter["in"] == "path":
                    assert parameter["schema"].get("pattern", "").startswith("^[0-9a-f]{8}-"), (
                        path,
                        parameter,
                    )
