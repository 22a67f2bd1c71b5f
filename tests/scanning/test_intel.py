"""Findings a customer can act on: alias groups, severity from every source, KEV and EPSS, risk order,
rescans queued by imports and publishes, and concurrent rescans (real data where the issue names it)."""

import asyncio
import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from portal.background import job_handlers
from portal.config import Settings
from portal.events import EventType
from portal.jobs import Job
from portal.jobs.runner import JobWorker
from portal.runtime import Runtime
from portal.scanning.models import Scan
from portal.scanning.tasks import rescan
from portal.users.models import Role
from portal.vulns import iter_advisories
from tests.advisories.factories import osv_record, write_folder
from tests.catalog.factories import grant, publish, small_sbom
from tests.factories import make_caller
from tests.operator import operator_cli, run_async
from tests.scanning.factories import events, import_advisories
from tests.shared_fixtures import fixtures_dir

EPSS_HEADER = "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\ncve,epss,percentile\n"


async def run_worker(runtime: Runtime) -> int:
    """What `portal worker` does with the queue, once: every due job, through the real handlers."""
    return await JobWorker(runtime, job_handlers(runtime)).run_due()


async def _latest(
    client: httpx.AsyncClient, headers: dict[str, str], image_id: str
) -> tuple[str, dict[str, Any]]:
    detail = (await client.get(f"/api/docker-images/{image_id}", headers=headers)).json()
    version = detail["versions"][0]
    assert version["latestScan"] is not None
    base = f"/api/docker-images/{image_id}/versions/{version['id']}/scans/{version['latestScan']['id']}"
    return base, (await client.get(base, headers=headers)).json()


def _groups_among_matches(purls: list[str], *feeds: Path) -> int:
    """The number of (component, alias group) pairs, worked out apart from the scanner's grouping."""
    from portal.vulns import AdvisoryIndex

    advisories = [a for feed in feeds for _, a in iter_advisories(feed) if not isinstance(a, Exception)]
    index = AdvisoryIndex(advisories)
    aliases = {a.id: {a.id.upper(), *(x.upper() for x in a.aliases)} for a in advisories}
    total = 0
    for purl in purls:
        groups: list[set[str]] = []
        for match in index.match_purl(purl):
            ids = set(aliases[match.advisory_id])
            for group in [g for g in groups if g & ids]:
                ids |= group
                groups.remove(group)
            groups.append(ids)
        total += len(groups)
    return total


async def test_python_app_with_pysec_and_ghsa_has_one_finding_per_vulnerability_and_known_severities(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    sbom_path = fixtures_dir() / "sboms" / "python-app-syft-1.18.cdx.json"
    published = await publish(runtime, "python-app", sbom=sbom_path.read_bytes())
    await grant(runtime, caller.tenant, "python-app")
    pysec, ghsa = fixtures_dir() / "osv" / "pypi-pysec.zip", fixtures_dir() / "osv" / "ghsa-subset.zip"
    first = await import_advisories(settings, pysec)
    assert first["rescansQueued"] == 1  # the one version, already waiting for the scan its publish queued
    await run_worker(runtime)
    _, alone = await _latest(client, caller.headers, published.image.id)

    second = await import_advisories(settings, ghsa)
    assert second["rescansQueued"] == 1
    await run_worker(runtime)
    base, detail = await _latest(client, caller.headers, published.image.id)
    findings = detail["findings"]

    purls = sorted({c["purl"] for c in json.loads(sbom_path.read_bytes())["components"] if "purl" in c})
    assert len(findings) == _groups_among_matches(purls, pysec, ghsa) > len(alone["findings"])
    for package in {f["package"]["purl"] for f in findings}:
        ids = [
            i
            for f in findings
            if f["package"]["purl"] == package
            for i in [f["vulnerabilityId"], *f["aliases"]]
        ]
        assert len(ids) == len(set(ids)), package  # no two findings of a component share an id
    known = [f for f in findings if f["severity"] != "unknown"]
    assert len(known) >= 0.9 * len(findings)
    pillow = next(f for f in findings if "PYSEC-2022-10" in f["aliases"])
    assert pillow["vulnerabilityId"] == "CVE-2022-22817" and "GHSA-8vj2-vxx3-667w" in pillow["aliases"]
    # the sources disagree on the fix: the highest is the one that helps, and each view is kept
    assert pillow["fixedVersion"] == "9.0.1"
    assert {s["id"]: s["fixedVersion"] for s in pillow["sources"]} == {
        "GHSA-8vj2-vxx3-667w": "9.0.1",
        "PYSEC-2022-10": "9.0.0",
    }
    assert (pillow["severity"], pillow["cvss"]["score"], pillow["cvss"]["source"]) == (
        "critical",
        9.8,
        "GHSA-8vj2-vxx3-667w",
    )
    # the same bug with no shared id stays two vulnerabilities: nothing in the records links them
    flask = [
        f
        for f in findings
        if {"PYSEC-2023-175", "GHSA-j7hp-h8jx-5ppr"} & {f["vulnerabilityId"], *f["aliases"]}
    ]
    assert len(flask) == 2
    # the list endpoint pages the same findings
    seen, cursor = [], None
    while True:
        page = (
            await client.get(
                f"{base}/findings",
                params={"limit": 7, **({"cursor": cursor} if cursor else {})},
                headers=caller.headers,
            )
        ).json()
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == findings


async def test_kubectl_go_findings_take_ghsa_or_nvd_severities(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    sbom = (fixtures_dir() / "sboms" / "kubectl-syft-0.90.spdx.json").read_bytes()
    published = await publish(runtime, "kubectl", sbom=sbom)
    await grant(runtime, caller.tenant, "kubectl")
    await import_advisories(settings, fixtures_dir() / "osv" / "go-vulndb.zip")
    await run_worker(runtime)
    _, before = await _latest(client, caller.headers, published.image.id)
    assert all(f["severity"] == "unknown" for f in before["findings"])  # the Go database states none

    await import_advisories(
        settings, fixtures_dir() / "osv" / "ghsa-subset.zip", fixtures_dir() / "nvd" / "nvd-subset.zip"
    )
    await run_worker(runtime)
    _, after = await _latest(client, caller.headers, published.image.id)
    rapid_reset = next(f for f in after["findings"] if f["vulnerabilityId"] == "CVE-2023-39325")
    assert "GO-2023-2102" in rapid_reset["aliases"] and rapid_reset["severity"] == "high"
    assert rapid_reset["cvss"]["source"].startswith(("GHSA-", "CVE-"))
    unknown_after = sum(f["severity"] == "unknown" for f in after["findings"])
    assert unknown_after < len(after["findings"]) / 2


def _wolfi_records(package: str) -> list[dict[str, Any]]:
    with zipfile.ZipFile(fixtures_dir() / "osv" / "wolfi.zip") as archive:
        records = (json.loads(archive.read(name)) for name in archive.namelist())
        return [r for r in records if r["affected"][0]["package"]["name"] == package]


def _wolfi_sbom(*packages: tuple[str, str]) -> bytes:
    components = [
        {"type": "library", "bom-ref": f"{n}@{v}", "name": n, "version": v, "purl": f"pkg:apk/wolfi/{n}@{v}"}
        for n, v in packages
    ]
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}
    ).encode()


async def test_a_kev_import_reaches_the_findings_lists_of_every_scan_read_before_it(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    caller = await make_caller(runtime, client)
    for name, version in (("cosign", "2.2.0-r1"), ("sigstore", "2.2.0-r5")):  # two sets of findings
        await publish(runtime, name, sbom=_wolfi_sbom(("cosign", version)))
        await grant(runtime, caller.tenant, name)
    await import_advisories(settings, write_folder(tmp_path / "wolfi", *_wolfi_records("cosign")))
    await run_worker(runtime)
    images = (await client.get("/api/docker-images", headers=caller.headers)).json()["items"]
    bases = [(await _latest(client, caller.headers, image["id"]))[0] for image in images]

    async def in_kev(base: str) -> list[str]:
        found = await client.get(f"{base}/findings", params={"kev": "true"}, headers=caller.headers)
        return [f["vulnerabilityId"] for f in found.json()["items"]]

    assert [await in_kev(base) for base in bases] == [[], []]
    kev_file = fixtures_dir() / "intel" / "known_exploited_vulnerabilities.json"
    await run_async(operator_cli(settings), "intel", "import", "kev", str(kev_file), "--json")

    assert [await in_kev(base) for base in bases] == [["CVE-2023-44487"], ["CVE-2023-44487"]]


async def test_kev_and_epss_show_on_the_latest_findings_and_lead_the_risk_order(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, "cosign", sbom=_wolfi_sbom(("cosign", "2.2.0-r1")))
    await grant(runtime, caller.tenant, "cosign")
    await import_advisories(settings, write_folder(tmp_path / "wolfi", *_wolfi_records("cosign")))
    await run_worker(runtime)
    base, detail = await _latest(client, caller.headers, published.image.id)
    assert all(f["kev"] is None and f["epss"] is None for f in detail["findings"])
    cves = sorted(f["vulnerabilityId"] for f in detail["findings"] if f["vulnerabilityId"].startswith("CVE-"))
    assert "CVE-2023-44487" in cves and len(cves) > 3

    cli = operator_cli(settings)
    kev = json.loads(
        await run_async(
            cli,
            "intel",
            "import",
            "kev",
            str(fixtures_dir() / "intel" / "known_exploited_vulnerabilities.json"),
            "--json",
        )
    )
    assert kev["imported"] > 1000 and kev["failed"] == 0
    again = json.loads(
        await run_async(
            cli,
            "intel",
            "import",
            "kev",
            str(fixtures_dir() / "intel" / "known_exploited_vulnerabilities.json"),
            "--json",
        )
    )
    assert (again["imported"], again["updated"]) == (0, 0)
    # EPSS as FIRST ships it, gzipped; the highest score goes to a CVE that is not in KEV
    other = next(c for c in cves if c != "CVE-2023-44487")
    lines = [f"{cve},0.{i + 1:05d},0.5" for i, cve in enumerate(cves) if cve not in (other,)]
    lines.append(f"{other},0.97000,0.999")
    lines.append("CVE-2024-99999,7.5,0.9")  # out of range: reported, skipped
    epss_file = tmp_path / "epss_scores-2025-03-14.csv.gz"
    epss_file.write_bytes(gzip.compress((EPSS_HEADER + "\n".join(lines) + "\n").encode()))
    epss = json.loads(await run_async(cli, "intel", "import", "epss", str(epss_file), "--json"))
    assert (epss["imported"], epss["failed"]) == (len(cves), 1)
    assert "7.5" in epss["failures"][0]["reason"]

    risky = (await client.get(f"{base}/findings", params={"sort": "risk"}, headers=caller.headers)).json()[
        "items"
    ]
    assert risky[0]["vulnerabilityId"] == "CVE-2023-44487"
    assert risky[0]["kev"]["dateAdded"] == "2023-10-10" and risky[0]["epss"]["date"] == "2025-03-14"
    assert risky[1]["vulnerabilityId"] == other and risky[1]["epss"]["score"] == 0.97
    kev_only = (await client.get(f"{base}/findings", params={"kev": "true"}, headers=caller.headers)).json()
    assert [f["vulnerabilityId"] for f in kev_only["items"]] == [
        f["vulnerabilityId"] for f in risky if f["kev"]
    ]
    high_epss = (await client.get(f"{base}/findings", params={"epssMin": 0.9}, headers=caller.headers)).json()
    assert [f["vulnerabilityId"] for f in high_epss["items"]] == [other]
    none = (
        await client.get(f"{base}/findings", params={"package": "nothing-like-it"}, headers=caller.headers)
    ).json()
    assert none == {"items": [], "nextCursor": None}
    bad = await client.get(f"{base}/findings", params={"epssMin": 2}, headers=caller.headers)
    assert bad.status_code == 400
    history = (
        await client.get(base.rsplit("/scans/", 1)[0] + "/scan-history", headers=caller.headers)
    ).json()
    assert history["items"][0]["summary"]["kev"] == len(kev_only["items"]) >= 1

    printed = json.loads(await run_async(cli, "findings", "--image", "cosign", "--sort", "risk", "--json"))
    assert [f["vulnerabilityId"] for f in printed["items"]] == [f["vulnerabilityId"] for f in risky]


async def test_bad_intel_input_is_reported_and_nothing_half_stored(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    cli = operator_cli(settings)
    wrong = tmp_path / "kev.json"
    wrong.write_text(json.dumps({"vulnerabilities": "none"}))
    refused = await run_async(cli, "intel", "import", "kev", str(wrong), ok=False)
    assert "not CISA's KEV catalog" in refused
    plain = tmp_path / "epss.csv"
    plain.write_text(EPSS_HEADER + "CVE-2023-44487,0.94,0.99\nnot-a-cve,0.1,0.1\n")
    result = json.loads(await run_async(cli, "intel", "import", "epss", str(plain), "--json"))
    assert (result["imported"], result["failed"]) == (1, 1)
    with zipfile.ZipFile(fixtures_dir() / "nvd" / "nvd-subset.zip") as archive:
        good = archive.read("CVE-2023-39325.json")
    nvd = write_folder(
        tmp_path / "nvd",
        extra={"CVE-2023-39325.json": good.decode(), "CVE-2099-0001.json": good.decode()[:400]},
    )
    imported = await import_advisories(settings, nvd)
    assert (imported["imported"], imported["failed"]) == (1, 1)
    assert "not valid JSON" in imported["failures"][0]["reason"]


async def test_an_import_rescans_exactly_the_versions_whose_packages_it_changes(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    caller = await make_caller(runtime, client, Role.ADMIN)
    named = await publish(runtime, "named", sbom=small_sbom(("demo-lib", "1.0.0")))
    other = await publish(runtime, "other", sbom=small_sbom(("other-lib", "1.0.0")))
    await grant(runtime, caller.tenant, "named")
    await import_advisories(
        settings, write_folder(tmp_path / "v1", osv_record("TEST-1", aliases=("CVE-2024-10001",)))
    )
    await run_worker(runtime)  # the publishes' scans
    watch = await client.post("/api/cve-watches", headers=caller.headers, json={"cveId": "CVE-2024-10002"})
    assert watch.json()["status"] == "unknown"

    changed = osv_record("TEST-2", aliases=("CVE-2024-10002",), modified="2024-02-01T00:00:00Z")
    result = await import_advisories(settings, write_folder(tmp_path / "v2", changed))
    assert result["rescansQueued"] == 1
    async with runtime.db.transaction() as session:
        queued = [job.payload["versionId"] for job in (await session.execute(select(Job))).scalars()]
    assert queued == [named.version.id]
    await run_worker(runtime)

    async with runtime.db.transaction() as session:
        counts = dict(
            (await session.execute(select(Scan.version_id, func.count()).group_by(Scan.version_id))).all()
        )
    assert counts == {named.version.id: 2, other.version.id: 1}
    (matched,) = await events(runtime, caller.tenant.id, EventType.CVE_WATCH_MATCHED)
    assert matched["cveId"] == "CVE-2024-10002"
    listed = (await client.get("/api/cve-watches", headers=caller.headers)).json()["items"][0]
    assert listed["status"] == "affected"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_rescans_of_a_version_make_one_scan_and_one_event_set(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    caller = await make_caller(runtime, client, Role.ADMIN)
    published = await publish(runtime, "demo", sbom=small_sbom(("demo-lib", "1.0.0")))
    await grant(runtime, caller.tenant, "demo")
    await client.post("/api/cve-watches", headers=caller.headers, json={"cveId": "CVE-2024-10001"})
    await import_advisories(
        settings, write_folder(tmp_path / "feed", osv_record("TEST-1", aliases=("CVE-2024-10001",)))
    )
    async with runtime.db.transaction() as session:
        await session.execute(Job.__table__.delete())  # the publish's and the import's: run by hand below

    # two `portal scan` runs at once, on the same advisories
    reports = await asyncio.gather(rescan(runtime.db, runtime.clock), rescan(runtime.db, runtime.clock))

    assert sorted(len(r.versions) for r in reports) == [0, 1] and sum(r.skipped for r in reports) == 1
    async with runtime.db.transaction() as session:
        scans = (
            await session.execute(
                select(func.count()).select_from(Scan).where(Scan.version_id == published.version.id)
            )
        ).scalar_one()
    assert scans == 1
    assert len(await events(runtime, caller.tenant.id, EventType.SCAN_COMPLETED)) == 1
    assert len(await events(runtime, caller.tenant.id, EventType.CVE_WATCH_MATCHED)) == 1


async def test_publishing_queues_the_versions_scan_and_latest_scan_names_it(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, "fresh")
    await grant(runtime, caller.tenant, "fresh")
    detail = (await client.get(f"/api/docker-images/{published.image.id}", headers=caller.headers)).json()
    assert detail["versions"][0]["latestScan"] is None
    assert await run_worker(runtime) == 1
    detail = (await client.get(f"/api/docker-images/{published.image.id}", headers=caller.headers)).json()
    latest = detail["versions"][0]["latestScan"]
    history = f"/api/docker-images/{published.image.id}/versions/{published.version.id}/scan-history"
    (scan,) = (await client.get(history, headers=caller.headers)).json()["items"]
    assert latest["id"] == scan["id"] and latest["total"] == 0
