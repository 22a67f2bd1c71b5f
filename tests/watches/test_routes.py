"""CVE watches through the API: validation, roles, tenants, and each status."""

import asyncio
import base64
import json
from pathlib import Path

import httpx

from portal.config import Settings
from portal.events import EventType
from portal.runtime import Runtime
from portal.users.models import Role
from tests.advisories.factories import osv_record, write_folder
from tests.catalog.factories import grant, publish, small_sbom
from tests.factories import make_caller
from tests.scanning.factories import events, import_advisories, scan


async def test_a_watch_is_stored_upper_case_and_watching_again_answers_the_existing_one(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)

    created = await client.post(
        "/api/cve-watches", headers=admin.headers, json={"cveId": "cve-2021-33503", "note": "urllib3"}
    )
    again = await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": "CVE-2021-33503"})

    assert created.status_code == 201 and again.status_code == 200
    body = created.json()
    assert again.json()["id"] == body["id"] and again.json()["note"] == "urllib3"
    assert body | {"id": "", "createdAt": ""} == {
        "id": "",
        "cveId": "CVE-2021-33503",
        "note": "urllib3",
        "createdAt": "",
        "createdBy": {
            "type": "user",
            "id": admin.user.id,
            "name": admin.user.email,
            "email": admin.user.email,
        },
        "status": "unknown",
        "affected": [],
        "advisoryIds": [],
        "justification": None,
        "vex": None,
    }
    second = await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": "CVE-2024-12345"})
    listed = (await client.get("/api/cve-watches", headers=admin.headers)).json()
    assert [w["cveId"] for w in listed["items"]] == ["CVE-2024-12345", "CVE-2021-33503"]
    page = (await client.get("/api/cve-watches", params={"limit": 1}, headers=admin.headers)).json()
    assert [w["id"] for w in page["items"]] == [second.json()["id"]]
    rest = await client.get("/api/cve-watches", params={"cursor": page["nextCursor"]}, headers=admin.headers)
    assert [w["id"] for w in rest.json()["items"]] == [body["id"]]


async def test_concurrent_watches_of_one_cve_answer_the_one_watch_that_won(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)

    racing = await asyncio.gather(
        *(
            client.post("/api/cve-watches", headers=admin.headers, json={"cveId": cve_id, "note": "race"})
            for cve_id in (
                "CVE-2024-4242",
                "cve-2024-4242",
                "CVE-2024-4242",
                "cve-2024-4242",
                "CVE-2024-4242",
            )
        )
    )

    assert sorted(r.status_code for r in racing) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in racing}) == 1
    assert {r.json()["cveId"] for r in racing} == {"CVE-2024-4242"}
    listed = (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"]
    assert [w["id"] for w in listed] == [racing[0].json()["id"]]


async def test_bad_bodies_are_named_field_by_field(runtime: Runtime, client: httpx.AsyncClient) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    cases = [
        ({"cveId": "CVE-21-1"}, ["cveId"], "invalid_format"),
        ({"cveId": "GHSA-q2q7-5pp4-w6pg"}, ["cveId"], "invalid_format"),
        ({}, ["cveId"], "required"),
        ({"cveId": "CVE-2024-1234", "note": "x" * 1001}, ["note"], "too_long"),
        ({"cveId": "CVE-2024-1234", "severity": "high"}, ["severity"], "unknown_field"),
    ]
    for body, path, code in cases:
        response = await client.post("/api/cve-watches", headers=admin.headers, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "VALIDATION_ERROR"
        assert {"path": path, "code": code} in [
            {"path": d["path"], "code": d["code"]} for d in response.json()["details"]
        ], response.json()


async def test_only_admins_write_and_other_tenants_watches_do_not_exist(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    watch = (
        await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": "CVE-2024-0001"})
    ).json()
    for role in (Role.VIEWER, Role.USER):
        member = await make_caller(runtime, client, role, admin.tenant)
        assert (await client.get("/api/cve-watches", headers=member.headers)).status_code == 200
        post = await client.post("/api/cve-watches", headers=member.headers, json={"cveId": "CVE-2024-0002"})
        delete = await client.delete(f"/api/cve-watches/{watch['id']}", headers=member.headers)
        assert (post.status_code, delete.status_code) == (403, 403)
        assert post.json()["error"] == delete.json()["error"] == "FORBIDDEN"

    stranger = await make_caller(runtime, client, Role.ADMIN)
    assert (await client.get("/api/cve-watches", headers=stranger.headers)).json()["items"] == []
    foreign = await client.delete(f"/api/cve-watches/{watch['id']}", headers=stranger.headers)
    assert (foreign.status_code, foreign.json()["error"]) == (404, "NOT_FOUND")

    deleted = await client.delete(f"/api/cve-watches/{watch['id']}", headers=admin.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.delete(f"/api/cve-watches/{watch['id']}", headers=admin.headers)).status_code == 404


async def test_each_status_from_the_tenants_latest_scans(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    other = await make_caller(runtime, client, Role.ADMIN)
    await publish(runtime, "demo", sbom=small_sbom(("demo-lib", "1.0.0")))
    await publish(runtime, "hidden", sbom=small_sbom(("hidden-lib", "1.0.0")))
    await grant(runtime, admin.tenant, "demo")
    await grant(runtime, other.tenant, "hidden")
    await import_advisories(
        settings,
        write_folder(
            tmp_path / "feed",
            # the CVE is an alias of a PYSEC- and a GHSA- advisory: both count
            osv_record("PYSEC-2099-1", aliases=("CVE-2099-0001", "GHSA-aaaa-bbbb-cccc")),
            osv_record("GHSA-aaaa-bbbb-cccc", aliases=("CVE-2099-0001",)),
            osv_record("PYSEC-2099-2", "unused-lib", aliases=("CVE-2099-0002",)),
            osv_record("PYSEC-2099-3", "hidden-lib", aliases=("CVE-2099-0003",)),
        ),
    )
    for cve in ("CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0003", "CVE-2099-0004"):
        await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": cve})

    await scan(settings)

    watches = {
        w["cveId"]: w for w in (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"]
    }
    assert watches["CVE-2099-0001"]["status"] == "affected"
    assert watches["CVE-2099-0001"]["advisoryIds"] == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"]
    assert [a["imageName"] for a in watches["CVE-2099-0001"]["affected"]] == ["demo"]
    # known to the advisories, in no image of this tenant (another tenant's image does not count)
    assert (watches["CVE-2099-0002"]["status"], watches["CVE-2099-0002"]["affected"]) == ("not_affected", [])
    assert watches["CVE-2099-0003"]["status"] == "not_affected"
    assert (watches["CVE-2099-0004"]["status"], watches["CVE-2099-0004"]["advisoryIds"]) == ("unknown", [])
    matched = await events(runtime, admin.tenant.id, EventType.CVE_WATCH_MATCHED)
    assert [e["cveId"] for e in matched] == ["CVE-2099-0001"]
    assert await events(runtime, other.tenant.id, EventType.CVE_WATCH_MATCHED) == []


async def test_a_cursor_not_written_by_the_list_is_refused(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    for values in (["2024-01-01T00:00:00", "id"], ["not a time", "id"], ["2024-01-01T00:00:00Z"], [1, 2]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        response = await client.get("/api/cve-watches", params={"cursor": cursor}, headers=admin.headers)
        assert (values, response.status_code, response.json()["details"][0]["path"]) == (
            values,
            400,
            ["query", "cursor"],
        )
