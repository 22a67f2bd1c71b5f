"""What changed between two versions: the kubectl image published from syft 0.90's SPDX and then from
syft 1.18's CycloneDX 1.6 of kubectl 1.30, scanned against the Go vulnerability database."""

import json

import httpx

from portal.config import Settings
from portal.events import EventType
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import make_caller
from tests.operator import operator_cli, run_async
from tests.scanning.factories import events, import_advisories, scan
from tests.shared_fixtures import fixtures_dir


async def test_two_kubectl_versions_read_as_upgrades_and_fixed_vulnerabilities(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    sboms = fixtures_dir() / "sboms"
    caller = await make_caller(runtime, client, Role.VIEWER)
    stranger = await make_caller(runtime, client, Role.ADMIN)
    old = await publish(
        runtime, "kubectl", sbom=(sboms / "kubectl-syft-0.90.spdx.json").read_bytes(), tags=("1.27",)
    )
    await grant(runtime, caller.tenant, "kubectl")
    new = await publish(
        runtime,
        "kubectl",
        sbom=(sboms / "kubectl-1.30-syft-1.18.cdx.json").read_bytes(),
        tags=("1.30",),
        hardening=("non-root", "fips"),
    )
    await import_advisories(settings, fixtures_dir() / "osv" / "go-vulndb.zip")
    await scan(settings)

    answer = await client.get(f"/api/docker-images/{old.image.id}/diff", headers=caller.headers)
    assert answer.status_code == 200, answer.text
    diff = answer.json()
    assert (diff["from"]["id"], diff["to"]["id"]) == (old.version.id, new.version.id)
    changed = {c["key"]: c for c in diff["packages"]["changed"]}
    net = changed["pkg:golang/golang.org/x/net"]
    assert net["fromVersion"] != net["toVersion"] and net["toVersion"]
    assert len(changed) >= 10
    assert diff["hardeningTags"] == {"added": ["fips"], "removed": []}
    vulnerabilities = diff["vulnerabilities"]
    assert vulnerabilities["fixed"], "kubectl 1.30's newer modules fix what 1.27's had"
    fixed_ids = {v["vulnerabilityId"] for v in vulnerabilities["fixed"]}
    still = {v["vulnerabilityId"] for v in vulnerabilities["stillOpen"]}
    assert not fixed_ids & still

    explicit = await client.get(
        f"/api/docker-images/{old.image.id}/diff?from={new.version.id}&to={old.version.id}",
        headers=caller.headers,
    )
    reverse = explicit.json()
    assert {v["vulnerabilityId"] for v in reverse["vulnerabilities"]["introduced"]} == fixed_ids
    hidden = await client.get(f"/api/docker-images/{old.image.id}/diff", headers=stranger.headers)
    assert hidden.status_code == 404

    (published,) = await events(runtime, caller.tenant.id, EventType.IMAGE_VERSION_PUBLISHED)
    assert published["changes"] == {
        "previousVersionId": old.version.id,
        "packagesAdded": len(diff["packages"]["added"]),
        "packagesRemoved": len(diff["packages"]["removed"]),
        "packagesChanged": len(changed),
        "hardeningTagsAdded": ["fips"],
        "hardeningTagsRemoved": [],
    }

    output = await run_async(operator_cli(settings), "images", "diff", "kubectl", "1.27", "1.30", "--json")
    assert json.loads(output)["packages"] == diff["packages"]
    text = await run_async(operator_cli(settings), "images", "diff", "kubectl", "1.27", "1.30")
    assert f"~ {net['name']} {net['fromVersion']} -> {net['toVersion']}" in text
