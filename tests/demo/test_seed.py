import json
from typing import Any

import httpx

from portal.advisories.service import AdvisoryService
from portal.config import Settings
from portal.demo import seed_demo
from portal.demo.catalog import DEMO_IMAGES, demo_sbom
from portal.demo.vulnerabilities import demo_advisory_records
from portal.runtime import Runtime
from portal.sbom import parse_sbom
from portal.tenants.repository import TenantRepository
from portal.users.models import Role
from tests.factories import OPERATOR, login, make_caller
from tests.operator import operator_cli, run_async
from tests.sbom.factories import cyclonedx_problems, spdx_problems


async def test_the_demo_seeds_a_populated_catalog_for_acme_and_can_run_again(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    async with runtime.db.transaction() as session:
        first = await seed_demo(runtime, session, OPERATOR)
    async with runtime.db.transaction() as session:
        second = await seed_demo(runtime, session, OPERATOR)
        acme = await TenantRepository(session).by_slug("acme")
    assert acme is not None
    assert first.images == second.images == tuple(demo.name for demo in DEMO_IMAGES)

    caller = await make_caller(runtime, client, Role.VIEWER, tenant=acme)
    listed = (await client.get("/api/docker-images", headers=caller.headers)).json()["items"]
    assert [item["name"] for item in listed] == sorted(demo.name for demo in DEMO_IMAGES)
    hardening = {tag for item in listed for tag in item["hardeningTags"]}
    assert {"fips", "stig", "non-root", "distroless"} <= hardening
    for item in listed:
        detail = (await client.get(f"/api/docker-images/{item['id']}", headers=caller.headers)).json()
        assert len(detail["versions"]) == 1  # the second run published nothing again
        assert detail["versions"][0]["componentCount"] >= 5
        sbom = f"/api/docker-images/{item['id']}/versions/{detail['versions'][0]['id']}/sbom/spdx"
        assert (await client.get(sbom, headers=caller.headers)).status_code == 200


def test_the_shipped_demo_sboms_are_valid_documents_of_their_own_format() -> None:
    for demo in DEMO_IMAGES:
        data = demo_sbom(demo.sbom_file)
        assert len(parse_sbom(data).components) >= 5
        problems = cyclonedx_problems(data) if demo.sbom_file.endswith(".cdx.json") else spdx_problems(data)
        assert (demo.sbom_file, problems) == (demo.sbom_file, [])


async def _scans_by_image(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Each demo image's latest version: its scan history, newest first, with the newest scan's findings."""
    scans: dict[str, list[dict[str, Any]]] = {}
    for item in (await client.get("/api/docker-images", headers=headers)).json()["items"]:
        detail = (await client.get(f"/api/docker-images/{item['id']}", headers=headers)).json()
        version = f"/api/docker-images/{item['id']}/versions/{detail['versions'][0]['id']}"
        history = (await client.get(f"{version}/scan-history", headers=headers)).json()["items"]
        if history:
            latest = await client.get(f"{version}/scans/{history[0]['id']}", headers=headers)
            history[0] = latest.json()
        scans[item["name"]] = history
    return scans


async def test_portal_demo_shows_scans_findings_and_watches_to_the_admin_and_a_second_run_adds_nothing(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    portal = operator_cli(settings)
    first = json.loads(await run_async(portal, "demo", "--json"))
    admin = next(user for user in first["users"] if user["role"] == "admin")
    login_response = await login(client, "acme", admin["email"], admin["password"])
    assert login_response.status_code == 200
    headers = {"X-Tenant": "acme", "Authorization": f"Bearer {login_response.json()['accessToken']}"}

    scans = await _scans_by_image(client, headers)
    assert sorted(scans) == sorted(demo.name for demo in DEMO_IMAGES)
    assert all(len(history) == 1 for history in scans.values())
    # findings are filed under their CVE; the demo advisory that found each is among its sources
    python = {
        (source["id"], f["package"]["name"]): f["fixedVersion"]
        for f in scans["python"][0]["findings"]
        for source in f["sources"]
    }
    assert python[("PORTAL-DEMO-2024-0004", "setuptools")] == "70.0.0"
    assert python[("PORTAL-DEMO-2023-0002", "zlib1g")] is None  # no fix released yet
    node = {source["id"] for f in scans["node"][0]["findings"] for source in f["sources"]}
    assert node == {"PORTAL-DEMO-2023-0008"}  # not the semver advisory: 7.6.0 is past its fix
    assert scans["static"][0]["summary"]["total"] == 0

    watches = {w["cveId"]: w for w in (await client.get("/api/cve-watches", headers=headers)).json()["items"]}
    assert watches.keys() == {"CVE-2024-5535", "CVE-2021-44228"}
    assert watches["CVE-2024-5535"]["status"] == "affected"
    assert {a["imageName"] for a in watches["CVE-2024-5535"]["affected"]} == {"nginx", "python"}
    # `portal demo` is the operator's doing, and a tenant sees the operator without a name.
    assert watches["CVE-2024-5535"]["createdBy"] == {
        "type": "operator",
        "id": None,
        "name": "operator",
        "email": None,
    }
    assert watches["CVE-2021-44228"]["status"] == "unknown"
    assert {w["cveId"]: w["status"] for w in first["watches"]} == {
        cve: watch["status"] for cve, watch in watches.items()
    }
    async with runtime.db.transaction() as session:
        advisories = (await AdvisoryService(session).feed_state()).count
    assert advisories == len(first["advisories"]) == len(demo_advisory_records())

    second = json.loads(await run_async(portal, "demo", "--json"))
    assert second == first
    again = await _scans_by_image(client, headers)
    assert {name: len(history) for name, history in again.items()} == dict.fromkeys(scans, 1)
    assert len((await client.get("/api/cve-watches", headers=headers)).json()["items"]) == 2
    async with runtime.db.transaction() as session:
        assert (await AdvisoryService(session).feed_state()).count == advisories
    human = await run_async(portal, "demo")
    assert "8 demo advisories (0 new); scans: 0 new" in human
    assert "CVE-2024-5535 affected (nginx, python), CVE-2021-44228 unknown" in human
