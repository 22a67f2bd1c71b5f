"""A version's VEX downloads: OpenVEX valid against the OpenVEX schema, CycloneDX VEX and VDR valid for the
official CycloneDX library, BOM-Links that resolve into the version's own SBOM, and ETag/304."""

import json
from importlib import resources
from typing import Any
from urllib.parse import unquote

import httpx
import jsonschema
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import Caller, make_caller
from tests.scanning.factories import import_advisories, scan
from tests.shared_fixtures import fixtures_dir
from tests.vex.factories import vex

OPENVEX_SCHEMA = json.loads((resources.files("portal.vex") / "openvex_json_schema_0.2.0.json").read_text())


async def _python_app(settings: Settings, runtime: Runtime, client: httpx.AsyncClient) -> tuple[Caller, str]:
    sbom = (fixtures_dir() / "sboms" / "python-app-syft-1.18.cdx.json").read_bytes()
    published = await publish(runtime, "python-app", sbom=sbom)
    admin = await make_caller(runtime, client, Role.ADMIN)
    await grant(runtime, admin.tenant, "python-app")
    await import_advisories(settings, fixtures_dir() / "osv" / "pypi-pysec.zip")
    await scan(settings)
    return admin, f"/api/docker-images/{published.image.id}/versions/{published.version.id}"


async def _not_affected(settings: Settings, vulnerability: str) -> dict[str, Any]:
    added: dict[str, Any] = await vex(
        settings,
        *("add", "--image", "python-app", "--all-versions", "--vulnerability", vulnerability),
        *("--status", "not_affected", "--justification", "vulnerable_code_not_in_execute_path"),
    )
    return added


async def test_openvex_export_is_valid_has_the_vendors_statements_and_the_tenants_on_request(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin, base = await _python_app(settings, runtime, client)
    await _not_affected(settings, "CVE-2022-22817")
    scan_id = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"][0]["id"]
    findings = (await client.get(f"{base}/scans/{scan_id}", headers=admin.headers)).json()["findings"]
    pillow = next(f for f in findings if f["vulnerabilityId"] == "CVE-2022-22817")
    other = next(f for f in findings if f["package"]["name"] != pillow["package"]["name"])
    triaged = await client.put(
        f"{base}/findings/{other['vulnerabilityId']}/analysis",
        headers=admin.headers,
        json={"state": "false_positive", "detail": "Not reachable here."},
    )
    assert triaged.status_code == 200, triaged.text

    answer = await client.get(f"{base}/vex", headers=admin.headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].endswith('.openvex.json"')
    document = answer.json()
    jsonschema.validate(document, OPENVEX_SCHEMA)
    (statement,) = document["statements"]
    assert statement["vulnerability"]["name"] == "CVE-2022-22817"
    assert (statement["status"], statement["justification"]) == (
        "not_affected",
        "vulnerable_code_not_in_execute_path",
    )
    (product,) = statement["products"]
    assert product["@id"].startswith("pkg:oci/python-app@sha256%3A")
    assert [s["@id"] for s in product["subcomponents"]] == [pillow["package"]["purl"]]

    with_tenant = (await client.get(f"{base}/vex?includeTenant=true", headers=admin.headers)).json()
    jsonschema.validate(with_tenant, OPENVEX_SCHEMA)
    assert len(with_tenant["statements"]) == 2
    named = other["vulnerabilityId"]
    mine = next(s for s in with_tenant["statements"] if s["vulnerability"]["name"] == named)
    assert mine["status"] == "not_affected" and mine["impact_statement"] == "Not reachable here."
    assert [p["@id"] for p in mine["products"][0]["subcomponents"]] == [other["package"]["purl"]]

    etag = answer.headers["etag"]
    again = await client.get(f"{base}/vex", headers={**admin.headers, "If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    third = next(f for f in findings if f["vulnerabilityId"] not in ("CVE-2022-22817", named))
    await _not_affected(settings, third["vulnerabilityId"])
    changed = await client.get(f"{base}/vex", headers={**admin.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_cyclonedx_vex_and_vdr_are_valid_and_point_into_the_versions_sbom(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin, base = await _python_app(settings, runtime, client)
    added = await _not_affected(settings, "CVE-2022-22817")
    sbom = (await client.get(f"{base}/sbom/cyclonedx", headers=admin.headers)).json()
    refs = {c["bom-ref"] for c in sbom["components"]} | {sbom["metadata"]["component"]["bom-ref"]}
    serial = sbom["serialNumber"].removeprefix("urn:uuid:")
    validator = JsonStrictValidator(SchemaVersion.V1_5)

    def resolves(ref: str) -> bool:
        link, _, fragment = ref.partition("#")
        return link == f"urn:cdx:{serial}/{sbom['version']}" and unquote(fragment) in refs

    answer = await client.get(f"{base}/vex?format=cyclonedx", headers=admin.headers)
    assert answer.headers["content-type"].startswith("application/vnd.cyclonedx+json")
    assert validator.validate_str(answer.text) is None
    (vulnerability,) = answer.json()["vulnerabilities"]
    assert vulnerability["id"] == "CVE-2022-22817"
    assert vulnerability["analysis"]["state"] == "not_affected"
    assert vulnerability["analysis"]["justification"] == "code_not_reachable"
    assert vulnerability["affects"] and all(resolves(a["ref"]) for a in vulnerability["affects"])

    report = await client.get(f"{base}/vex?format=cyclonedx-vdr", headers=admin.headers)
    assert validator.validate_str(report.text) is None
    everything = report.json()["vulnerabilities"]
    history = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"]
    scan_id = history[0]["id"]
    detail = (await client.get(f"{base}/scans/{scan_id}", headers=admin.headers)).json()
    assert sum(len(v["affects"]) for v in everything) == len(
        {(f["vulnerabilityId"], f["package"]["purl"]) for f in detail["findings"]}
    )
    assert all(resolves(a["ref"]) for v in everything for a in v["affects"])
    analysed = [v for v in everything if "analysis" in v]
    assert [v["id"] for v in analysed] == ["CVE-2022-22817"]
    assert analysed[0]["analysis"]["detail"] if added["statement"] else True
    assert all(v.get("ratings") for v in everything)
