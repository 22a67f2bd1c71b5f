import httpx

from portal.demo import seed_demo
from portal.demo.catalog import DEMO_IMAGES, demo_sbom
from portal.runtime import Runtime
from portal.sbom import parse_sbom
from portal.tenants.repository import TenantRepository
from portal.users.models import Role
from tests.factories import make_caller
from tests.sbom.factories import cyclonedx_problems, spdx_problems


async def test_the_demo_seeds_a_populated_catalog_for_acme_and_can_run_again(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    async with runtime.db.transaction() as session:
        first = await seed_demo(runtime, session)
    async with runtime.db.transaction() as session:
        second = await seed_demo(runtime, session)
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
