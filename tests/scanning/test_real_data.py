"""Real SBOMs against real feeds, end to end: publish, import, `portal scan`, then the tenant's API.

Every advisory asserted here was checked by hand in the advisory text inside the zip: the component's
version lies in the advisory's range, and the fix is the range's `fixed` event.
"""

from typing import Any

import httpx
import pytest

from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import make_caller
from tests.scanning.factories import import_advisories, scan
from tests.shared_fixtures import fixtures_dir

# (package, version) -> (advisory, fixed version)
PYTHON_APP_ADVISORIES = {
    ("django", "3.2"): ("PYSEC-2021-7", "3.2.1"),  # introduced 3.2, fixed 3.2.1
    ("pillow", "8.1.0"): ("PYSEC-2021-35", "8.1.1"),  # introduced 0, fixed 8.1.1
    ("pyyaml", "5.3.1"): ("PYSEC-2021-142", "5.4"),  # introduced 0, fixed 5.4
    ("jinja2", "2.11.2"): ("PYSEC-2021-66", "2.11.3"),  # introduced 0, fixed 2.11.3
    ("urllib3", "1.26.4"): ("PYSEC-2021-108", "1.26.5"),  # introduced 0, fixed 1.26.5; CVE-2021-33503
    ("requests", "2.25.1"): ("PYSEC-2023-74", "2.31.0"),  # introduced 2.3.0, fixed 2.31.0
    ("cryptography", "3.3.1"): ("PYSEC-2021-63", "3.3.2"),  # introduced 3.1, fixed 3.3.2
}
# fixed at or below the component's version: never reported
PYTHON_APP_FIXED = {
    ("pyyaml", "5.3.1"): "PYSEC-2020-96",  # introduced 5.1, fixed 5.3.1
    ("urllib3", "1.26.4"): "PYSEC-2021-59",  # introduced 1.26.0, fixed 1.26.4
}


async def _latest_findings(client: httpx.AsyncClient, headers: dict[str, str], image_id: str) -> Any:
    detail = (await client.get(f"/api/docker-images/{image_id}", headers=headers)).json()
    version = detail["versions"][0]
    base = f"/api/docker-images/{image_id}/versions/{version['id']}"
    history = (await client.get(f"{base}/scan-history", headers=headers)).json()["items"]
    scan_detail = (await client.get(f"{base}/scans/{history[0]['id']}", headers=headers)).json()
    return version, history, scan_detail


@pytest.mark.parametrize("sbom", ["python-app-syft-1.18.cdx.json", "python-app-syft-1.18.spdx.json"])
async def test_the_python_app_reports_the_known_advisories_of_its_old_packages(
    sbom: str, settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    published = await publish(runtime, "python-app", sbom=(fixtures_dir() / "sboms" / sbom).read_bytes())
    await grant(runtime, caller.tenant, "python-app")
    await import_advisories(settings, fixtures_dir() / "osv" / "pypi-pysec.zip")

    ran = await scan(settings)

    assert ran["versions"] == 1 and ran["findings"] > 0
    version, history, detail = await _latest_findings(client, caller.headers, published.image.id)
    found = {
        (f["package"]["name"].lower(), f["package"]["version"], source["id"]): f
        for f in detail["findings"]
        for source in f["sources"]
    }
    for (name, package_version), (advisory, fixed) in PYTHON_APP_ADVISORIES.items():
        finding = found[(name, package_version, advisory)]
        assert finding["fixedVersion"] == fixed
        assert finding["status"] == "affected"
        assert finding["package"]["purl"].startswith(f"pkg:pypi/{name}@{package_version}")
    for (name, package_version), advisory in PYTHON_APP_FIXED.items():
        assert (name, package_version, advisory) not in found
    urllib3 = found[("urllib3", "1.26.4", "PYSEC-2021-108")]
    assert urllib3["vulnerabilityId"] == "CVE-2021-33503"
    assert {"PYSEC-2021-108", "GHSA-q2q7-5pp4-w6pg"} <= set(urllib3["aliases"])
    # PyPA's records carry no CVSS vector or severity word: unknown, never a guess
    assert urllib3["severity"] == "unknown" and urllib3["cvssScore"] is None

    summary = history[0]["summary"]
    assert summary["total"] == len(detail["findings"])
    assert summary["fixable"] == sum(1 for f in detail["findings"] if f["fixedVersion"])
    assert sum(summary[s] for s in ("critical", "high", "medium", "low", "unknown")) == summary["total"]
    assert version["latestScan"] == {**summary, "id": history[0]["id"], "scannedAt": history[0]["scannedAt"]}
    assert history[0]["feedVersion"] == ran["feedVersion"]


async def test_kubectl_reports_go_advisories_of_its_modules(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    sbom = (fixtures_dir() / "sboms" / "kubectl-syft-0.90.spdx.json").read_bytes()
    published = await publish(runtime, "kubectl", sbom=sbom)
    await grant(runtime, caller.tenant, "kubectl")
    await import_advisories(settings, fixtures_dir() / "osv" / "go-vulndb.zip")

    await scan(settings, "--image", "kubectl")

    _, _, detail = await _latest_findings(client, caller.headers, published.image.id)
    net = {
        source["id"]: f["fixedVersion"]
        for f in detail["findings"]
        if f["package"]["purl"].startswith("pkg:golang/golang.org/x/net@")
        for source in f["sources"]
    }
    assert (
        net["GO-2023-2102"] == "0.17.0"
    )  # CVE-2023-39325: SEMVER introduced 0, fixed 0.17.0; x/net is v0.13.0
    assert "GO-2023-1988" not in net  # fixed in 0.13.0, the component's own version
