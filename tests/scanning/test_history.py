"""Scan history, scan detail and the events a scan writes, with hand-written advisories."""

from pathlib import Path

import httpx

from portal.config import Settings
from portal.events import EventType
from portal.kit.ids import new_id
from portal.kit.pagination import PageParams
from portal.runtime import Runtime
from portal.scanning.repository import ScanRepository
from portal.users.models import Role
from tests.advisories.factories import osv_record, write_folder
from tests.catalog.factories import grant, publish, small_sbom, unpublish
from tests.factories import make_caller, make_tenant
from tests.scanning.factories import events, import_advisories, scan

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


async def test_each_scan_appends_to_the_history_with_new_and_resolved_ids_in_its_event(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    published = await publish(runtime, "demo", sbom=small_sbom(("demo-lib", "1.0.0"), ("other-lib", "2.0.0")))
    await grant(runtime, admin.tenant, "demo")
    watched = await client.post("/api/cve-watches", headers=admin.headers, json={"cveId": "cve-2024-10001"})
    assert watched.status_code == 201
    await import_advisories(
        settings,
        write_folder(
            tmp_path / "feed",
            osv_record("TEST-2024-1", aliases=("CVE-2024-10001",), cvss_v3=CRITICAL_VECTOR),
            osv_record("TEST-2024-2", fixed=None),
            osv_record("TEST-2024-3", "other-lib", fixed="1.5.0"),  # 2.0.0 is past the fix
        ),
    )

    await scan(settings)

    base = f"/api/docker-images/{published.image.id}/versions/{published.version.id}"
    history = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()
    assert len(history["items"]) == 1 and history["nextCursor"] is None
    first = history["items"][0]
    assert first["summary"] == {
        "critical": 1,
        "high": 0,
        "medium": 0,
        "low": 0,
        "unknown": 1,
        "total": 2,
        "fixable": 1,
        "kev": 0,
        "suppressed": 0,
    }
    detail = (await client.get(f"{base}/scans/{first['id']}", headers=admin.headers)).json()
    package = {"name": "demo-lib", "version": "1.0.0", "purl": "pkg:pypi/demo-lib@1.0.0"}
    assert detail["findings"] == [
        {
            # the vulnerability is its CVE; the advisory that found it is one of its ids and sources
            "vulnerabilityId": "CVE-2024-10001",
            "aliases": ["TEST-2024-1"],
            "severity": "critical",
            "cvssScore": 9.8,
            "cvss": {"score": 9.8, "vector": CRITICAL_VECTOR, "version": "3.1", "source": "TEST-2024-1"},
            "severitySource": "TEST-2024-1",
            "package": package,
            "fixedVersion": "1.2.0",
            "sources": [{"id": "TEST-2024-1", "fixedVersion": "1.2.0"}],
            "kev": None,
            "epss": None,
            "status": "affected",
            "vex": None,
        },
        {
            "vulnerabilityId": "TEST-2024-2",
            "aliases": [],
            "severity": "unknown",
            "cvssScore": None,
            "cvss": None,
            "severitySource": None,
            "package": package,
            "fixedVersion": None,
            "sources": [{"id": "TEST-2024-2", "fixedVersion": None}],
            "kev": None,
            "epss": None,
            "status": "affected",
            "vex": None,
        },
    ]
    completed = await events(runtime, admin.tenant.id, EventType.SCAN_COMPLETED)
    assert completed == [
        {
            "imageId": published.image.id,
            "imageName": "demo",
            "versionId": published.version.id,
            "scanId": first["id"],
            "summary": first["summary"],
            "newVulnerabilities": ["CVE-2024-10001", "TEST-2024-2"],
            "resolvedVulnerabilities": [],
        }
    ]
    (matched,) = await events(runtime, admin.tenant.id, EventType.CVE_WATCH_MATCHED)
    assert matched == {
        "watchId": watched.json()["id"],
        "cveId": "CVE-2024-10001",
        "imageId": published.image.id,
        "imageName": "demo",
        "versionId": published.version.id,
        "packages": [
            {
                "name": "demo-lib",
                "version": "1.0.0",
                "purl": "pkg:pypi/demo-lib@1.0.0",
                "fixedVersion": "1.2.0",
            }
        ],
    }
    watch = (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"][0]
    assert watch["status"] == "affected" and watch["advisoryIds"] == ["TEST-2024-1"]
    assert watch["affected"] == [
        {
            "imageId": published.image.id,
            "imageName": "demo",
            "versionId": published.version.id,
            "tags": ["3.12", "latest"],
            "packages": [
                {
                    "name": "demo-lib",
                    "version": "1.0.0",
                    "purl": "pkg:pypi/demo-lib@1.0.0",
                    "fixedVersion": "1.2.0",
                }
            ],
        }
    ]

    # the same advisories again: a new entry, the same findings, nothing new or resolved
    await scan(settings)
    history = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"]
    assert len(history) == 2 and history[1]["id"] == first["id"]
    again = (await client.get(f"{base}/scans/{history[0]['id']}", headers=admin.headers)).json()
    assert again["findings"] == detail["findings"]
    latest_event = (await events(runtime, admin.tenant.id, EventType.SCAN_COMPLETED))[-1]
    assert latest_event["newVulnerabilities"] == latest_event["resolvedVulnerabilities"] == []

    # the advisory is withdrawn: it stops matching, the watch resolves and reads as fixed
    withdrawn = osv_record(
        "TEST-2024-1",
        aliases=("CVE-2024-10001",),
        modified="2024-06-01T00:00:00Z",
        withdrawn="2024-06-01T00:00:00Z",
    )
    await import_advisories(settings, write_folder(tmp_path / "update", withdrawn))
    await scan(settings)

    history = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"]
    assert len(history) == 3 and history[0]["summary"]["total"] == 1
    assert history[0]["feedVersion"] != history[1]["feedVersion"]
    latest_event = (await events(runtime, admin.tenant.id, EventType.SCAN_COMPLETED))[-1]
    assert latest_event["resolvedVulnerabilities"] == ["CVE-2024-10001"]
    (resolved,) = await events(runtime, admin.tenant.id, EventType.CVE_WATCH_RESOLVED)
    assert resolved == matched
    watch = (await client.get("/api/cve-watches", headers=admin.headers)).json()["items"][0]
    assert (watch["status"], watch["affected"], watch["advisoryIds"]) == ("fixed", [], [])

    detail_of_image = (
        await client.get(f"/api/docker-images/{published.image.id}", headers=admin.headers)
    ).json()
    latest = detail_of_image["versions"][0]["latestScan"]
    assert latest == {**history[0]["summary"], "id": history[0]["id"], "scannedAt": history[0]["scannedAt"]}


async def test_history_filters_by_time_and_pages_newest_first(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    published = await publish(runtime, "demo")
    await grant(runtime, caller.tenant, "demo")
    for _ in range(3):
        await scan(settings)
    base = f"/api/docker-images/{published.image.id}/versions/{published.version.id}/scan-history"
    everything = (await client.get(base, headers=caller.headers)).json()["items"]
    assert len(everything) == 3
    times = [item["scannedAt"] for item in everything]
    assert times == sorted(times, reverse=True)

    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(base, params=params, headers=caller.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [item["id"] for item in everything]

    middle = everything[1]["scannedAt"]
    since = (await client.get(base, params={"from": middle}, headers=caller.headers)).json()["items"]
    until = (await client.get(base, params={"to": middle}, headers=caller.headers)).json()["items"]
    assert [i["id"] for i in since] == [i["id"] for i in everything[:2]]
    assert [i["id"] for i in until] == [i["id"] for i in everything[1:]]

    naive = await client.get(base, params={"from": "2024-01-01T00:00:00"}, headers=caller.headers)
    assert naive.status_code == 400 and naive.json()["details"][0]["path"] == ["query", "from"]
    for not_a_time in ("0.5", "1700000000"):  # pydantic alone reads these as seconds since the epoch
        number = await client.get(base, params={"to": not_a_time}, headers=caller.headers)
        assert number.status_code == 400 and number.json()["details"][0]["path"] == ["query", "to"]
    bad_cursor = await client.get(base, params={"cursor": "nonsense"}, headers=caller.headers)
    assert bad_cursor.status_code == 400


async def test_unentitled_unknown_and_unpublished_versions_are_not_found(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    mine = await publish(runtime, "mine")
    theirs = await publish(runtime, "theirs")
    await grant(runtime, caller.tenant, "mine")
    await scan(settings)
    mine_base = f"/api/docker-images/{mine.image.id}/versions/{mine.version.id}"
    theirs_base = f"/api/docker-images/{theirs.image.id}/versions/{theirs.version.id}"
    (mine_scan,) = (await client.get(f"{mine_base}/scan-history", headers=caller.headers)).json()["items"]

    for path in (
        f"{theirs_base}/scan-history",
        f"/api/docker-images/{mine.image.id}/versions/{theirs.version.id}/scan-history",
        f"{mine_base}/scans/not-a-scan",
        f"{theirs_base}/scans/{mine_scan['id']}",
    ):
        response = await client.get(path, headers=caller.headers)
        assert (path, response.status_code, response.json()["error"]) == (path, 404, "NOT_FOUND")

    newer = await publish(runtime, "mine", tags=("3.13",))
    await unpublish(runtime, "mine", mine.version.digest)
    gone = await client.get(f"{mine_base}/scan-history", headers=caller.headers)
    assert gone.status_code == 404
    # the unpublished version's scans stay on record; the next run scans only the published one
    assert (await scan(settings))["scans"][0]["versionId"] in {newer.version.id, theirs.version.id}
    assert {s["versionId"] for s in (await scan(settings))["scans"]} == {newer.version.id, theirs.version.id}


async def test_the_repository_itself_reads_only_scans_of_entitled_published_versions(
    settings: Settings, runtime: Runtime
) -> None:
    entitled, other = await make_tenant(runtime), await make_tenant(runtime)
    published = await publish(runtime, "demo")
    await grant(runtime, entitled, "demo")
    await scan(settings)
    image, version = published.image.id, published.version.id
    async with runtime.db.transaction() as session:
        scans = ScanRepository(session)
        (mine,) = (
            await scans.history(entitled.id, image, version, PageParams(10), since=None, until=None)
        ).items
        assert await scans.scan(entitled.id, image, version, mine.id) is not None
        # Not entitled, or the version under another image: the repository finds nothing by itself.
        for tenant_id, image_id in ((other.id, image), (entitled.id, new_id())):
            page = await scans.history(tenant_id, image_id, version, PageParams(10), since=None, until=None)
            assert page.items == []
            assert await scans.scan(tenant_id, image_id, version, mine.id) is None
    await unpublish(runtime, "demo", published.version.digest)
    async with runtime.db.transaction() as session:
        scans = ScanRepository(session)
        page = await scans.history(entitled.id, image, version, PageParams(10), since=None, until=None)
        assert page.items == []
