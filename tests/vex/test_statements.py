"""Vendor VEX statements through `portal vex`: real OpenVEX and CycloneDX documents, and what a statement
changes for the tenants entitled to an image (findings, summaries, CVE watches, events)."""

import json
import zipfile
from pathlib import Path

import httpx

from portal.config import Settings
from portal.events import EventType
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import make_caller, make_tenant
from tests.scanning.factories import events, import_advisories, scan
from tests.shared_fixtures import fixtures_dir
from tests.vex.factories import openvex, statement, vex, write_json

WOLFI = fixtures_dir() / "vex" / "wolfi-openvex.zip"


async def test_the_wolfi_set_imports_whole_and_importing_it_again_changes_nothing(settings: Settings) -> None:
    first = await vex(settings, "import", str(WOLFI))
    assert (first["documents"], first["imported"], first["unchanged"]) == (884, 2782, 0)

    again = await vex(settings, "import", str(WOLFI))
    assert (again["documents"], again["imported"], again["unchanged"]) == (884, 0, 2782)

    listed = await vex(settings, "list", "--vulnerability", "CGA-7ggg-m3hv-6chj")
    (aactl,) = listed["items"]
    assert aactl["products"] == ["pkg:apk/wolfi/aactl"]
    assert (aactl["status"], aactl["justification"]) == ("not_affected", "vulnerable_code_not_present")
    assert set(aactl["aliases"]) == {"CVE-2023-45283", "GHSA-VVJP-Q62M-2VPH"}
    assert aactl["statement"] == "Only affects Windows"


async def test_the_cyclonedx_use_case_examples_import(settings: Settings) -> None:
    folder = fixtures_dir() / "vex" / "cyclonedx-examples" / "CISA-Use-Cases"
    imported = await vex(settings, "import", str(folder))
    assert imported["documents"] == len(list(folder.rglob("*.json")))
    assert imported["imported"] > 0
    statuses = {item["status"] for item in (await vex(settings, "list", "--limit", "1000"))["items"]}
    assert statuses == {"not_affected", "affected", "fixed", "under_investigation"}


async def test_a_document_that_fails_the_schema_is_refused_with_its_json_path_and_nothing_is_stored(
    settings: Settings, tmp_path: Path
) -> None:
    good = write_json(tmp_path / "good.json", openvex([statement("CVE-2024-1", "pkg:apk/wolfi/demo")]))
    with zipfile.ZipFile(WOLFI) as archive:
        broken = json.loads(archive.read("aactl.openvex.json"))
    broken["statements"][1]["status"] = "maybe"
    write_json(tmp_path / "broken.json", broken)

    output = await vex(settings, "import", str(good), str(tmp_path / "broken.json"), ok=False)

    assert "broken.json" in output and "$.statements[1].status" in output
    assert (await vex(settings, "list"))["items"] == []


async def test_a_not_affected_statement_suppresses_a_finding_for_every_entitled_tenant_until_revoked(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    sbom = (fixtures_dir() / "sboms" / "python-app-syft-1.18.cdx.json").read_bytes()
    published = await publish(runtime, "python-app", sbom=sbom)
    admin = await make_caller(runtime, client, Role.ADMIN)
    other = await make_caller(runtime, client, Role.VIEWER)
    stranger = await make_tenant(runtime)
    for tenant in (admin.tenant, other.tenant):
        await grant(runtime, tenant, "python-app")
    await import_advisories(settings, fixtures_dir() / "osv" / "pypi-pysec.zip")
    await scan(settings)
    cve = "CVE-2022-22817"  # Pillow's PYSEC-2022-10
    watched = await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": cve})
    assert watched.status_code == 201

    base = f"/api/docker-images/{published.image.id}/versions/{published.version.id}"
    history = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"]
    scan_id, before = history[0]["id"], history[0]["summary"]
    findings_url = f"{base}/scans/{scan_id}/findings?limit=200"
    listed = (await client.get(findings_url, headers=admin.headers)).json()["items"]
    pillow = next(f for f in listed if f["vulnerabilityId"] == cve)
    assert (pillow["status"], pillow["vex"], before["suppressed"]) == ("affected", None, 0)

    added = await vex(
        settings,
        "add",
        "--image",
        "python-app",
        "--all-versions",
        "--vulnerability",
        "PYSEC-2022-10",  # another id of the same vulnerability
        "--status",
        "not_affected",
        "--justification",
        "vulnerable_code_not_in_execute_path",
        "--statement",
        "The image never decodes untrusted images.",
    )

    for caller in (admin, other):
        history = (await client.get(f"{base}/scan-history", headers=caller.headers)).json()["items"]
        summary = history[0]["summary"]
        assert summary["suppressed"] == 1
        assert summary["total"] == before["total"] - 1
        assert summary[pillow["severity"]] == before[pillow["severity"]] - 1
        shown = (await client.get(findings_url, headers=caller.headers)).json()["items"]
        assert cve not in {f["vulnerabilityId"] for f in shown}
        everything = (await client.get(findings_url + "&include=suppressed", headers=caller.headers)).json()
        suppressed = next(f for f in everything["items"] if f["vulnerabilityId"] == cve)
        assert suppressed["status"] == "not_affected"
        assert suppressed["vex"] | {"timestamp": None} == {
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "statement": "The image never decodes untrusted images.",
            "action": None,
            "source": "vendor",
            "timestamp": None,
            "statementId": added["id"],
            "analysisState": None,
        }
    (watch,) = (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"]
    assert watch["status"] == "not_affected"
    assert watch["justification"] == "vulnerable_code_not_in_execute_path"
    assert watch["affected"] == [] and watch["vex"]["statementId"] == added["id"]
    (published_event,) = await events(runtime, other.tenant.id, EventType.VEX_PUBLISHED)
    assert published_event["versionId"] == published.version.id and published_event["suppressed"] == 1
    assert [s["statementId"] for s in published_event["statements"]] == [added["id"]]
    assert await events(runtime, stranger.id, EventType.VEX_PUBLISHED) == []
    (resolved,) = await events(runtime, admin.tenant.id, EventType.CVE_WATCH_RESOLVED)
    assert resolved["cveId"] == cve and resolved["versionId"] == published.version.id

    await vex(settings, "revoke", added["id"])

    summary = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"][0]["summary"]
    assert summary == before
    shown = (await client.get(findings_url, headers=admin.headers)).json()["items"]
    assert next(f for f in shown if f["vulnerabilityId"] == cve)["vex"] is None
    (watch,) = (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"]
    assert watch["status"] == "affected" and watch["vex"] is None
    matched = await events(runtime, admin.tenant.id, EventType.CVE_WATCH_MATCHED)
    assert [e["cveId"] for e in matched][-1] == cve
