"""A tenant's triage of its findings through the API: admins write, everyone reads, no other tenant
sees it, and an analysis stops applying when it expires (on the runtime's clock)."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.config import Settings
from portal.kit.clock import utcnow
from portal.runtime import Runtime
from portal.users.models import Role
from tests.advisories.factories import osv_record, write_folder
from tests.catalog.factories import grant, publish, small_sbom
from tests.conftest import client_for
from tests.factories import Caller, make_caller
from tests.scanning.factories import import_advisories, scan


@pytest.fixture
async def moving() -> list[datetime]:
    # access tokens expire by the wall clock: the runtime's starts from it
    return [utcnow()]


@pytest.fixture
async def clocked(
    settings: Settings, moving: list[datetime]
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    runtime = Runtime.build(settings, clock=lambda: moving[0], rate_limit_namespace=f"triage-{id(moving)}")
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            yield runtime, client
    finally:
        await runtime.close()


def _reissue(runtime: Runtime, *callers: Caller) -> None:
    """Access tokens expire by the runtime's clock: after moving it, callers sign in again."""
    for caller in callers:
        caller.access_token = runtime.tokens.issue(caller.user.id, caller.tenant.id, caller.user.role.value)


async def _findings(
    client: httpx.AsyncClient, headers: dict[str, str], base: str, scan_id: str
) -> list[dict]:  # type: ignore[type-arg]
    answer = await client.get(f"{base}/scans/{scan_id}/findings?include=suppressed", headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict] = answer.json()["items"]  # type: ignore[type-arg]
    return items


async def test_an_analysis_speaks_for_its_tenant_only_keeps_its_history_and_expires(
    settings: Settings, clocked: tuple[Runtime, httpx.AsyncClient], moving: list[datetime], tmp_path: Path
) -> None:
    runtime, client = clocked
    now = moving[0]
    published = await publish(runtime, "demo", sbom=small_sbom(("demo-lib", "1.0.0")))
    admin = await make_caller(runtime, client, Role.ADMIN)
    user = await make_caller(runtime, client, Role.USER, admin.tenant)
    viewer = await make_caller(runtime, client, Role.VIEWER, admin.tenant)
    other = await make_caller(runtime, client, Role.ADMIN)
    for tenant in (admin.tenant, other.tenant):
        await grant(runtime, tenant, "demo")
    await import_advisories(
        settings, write_folder(tmp_path / "feed", osv_record("TEST-2024-1", aliases=("CVE-2024-10001",)))
    )
    await scan(settings)
    base = f"/api/docker-images/{published.image.id}/versions/{published.version.id}"
    scan_id = (await client.get(f"{base}/scan-history", headers=admin.headers)).json()["items"][0]["id"]
    analysis = f"{base}/findings/TEST-2024-1/analysis"  # the finding shows CVE-2024-10001: any id will do
    body = {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "We never call the parser.",
        "response": ["will_not_fix"],
        "expiresAt": (now + timedelta(days=30)).isoformat(),
    }

    for caller in (viewer, user):
        refused = await client.put(analysis, headers=caller.headers, json=body)
        assert (refused.status_code, refused.json()["error"]) == (403, "FORBIDDEN")
        assert (await client.delete(analysis, headers=caller.headers)).status_code == 403
    missing = await client.put(f"{base}/findings/CVE-1999-0001/analysis", headers=admin.headers, json=body)
    assert missing.status_code == 404

    recorded = await client.put(analysis, headers=admin.headers, json=body)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["vulnerabilityId"] == "CVE-2024-10001"

    (finding,) = await _findings(client, viewer.headers, base, scan_id)
    assert finding["status"] == "not_affected"
    assert finding["vex"] | {"timestamp": None} == {
        "status": "not_affected",
        "justification": "code_not_reachable",
        "statement": "We never call the parser.",
        "action": "will_not_fix",
        "source": "tenant",
        "timestamp": None,
        "statementId": None,
        "analysisState": "not_affected",
    }
    summary = (await client.get(f"{base}/scan-history", headers=viewer.headers)).json()["items"][0]["summary"]
    assert (summary["total"], summary["suppressed"]) == (0, 1)
    # another tenant never sees it
    (theirs,) = await _findings(client, other.headers, base, scan_id)
    assert (theirs["status"], theirs["vex"]) == ("affected", None)
    history = await client.get(analysis, headers=other.headers)
    assert history.json()["items"] == []

    moving[0] = now + timedelta(days=1)

    _reissue(runtime, admin, user, viewer, other)
    triage = {**body, "state": "in_triage", "justification": None, "expiresAt": None}
    assert (await client.put(analysis, headers=admin.headers, json=triage)).status_code == 200
    (finding,) = await _findings(client, admin.headers, base, scan_id)
    assert (finding["status"], finding["vex"]["analysisState"]) == ("under_investigation", "in_triage")
    assert (await client.get(f"{base}/scans/{scan_id}/findings", headers=admin.headers)).json()["items"]

    moving[0] = now + timedelta(days=2)

    _reissue(runtime, admin, user, viewer, other)
    assert (await client.delete(analysis, headers=admin.headers)).status_code == 204
    assert (await client.delete(analysis, headers=admin.headers)).status_code == 404
    (finding,) = await _findings(client, admin.headers, base, scan_id)
    assert finding["vex"] is None
    entries = (await client.get(analysis, headers=viewer.headers)).json()["items"]
    assert [e["state"] for e in entries] == [None, "in_triage", "not_affected"]
    assert entries[0]["recordedBy"]["email"] == admin.user.email

    # an analysis that expires stops applying when the clock passes it
    moving[0] = now + timedelta(days=2, hours=1)
    _reissue(runtime, admin, user, viewer, other)
    expiring = {**body, "expiresAt": (now + timedelta(days=3)).isoformat()}
    assert (await client.put(analysis, headers=admin.headers, json=expiring)).status_code == 200
    (finding,) = await _findings(client, admin.headers, base, scan_id)
    assert finding["status"] == "not_affected"
    moving[0] = now + timedelta(days=3, seconds=1)
    _reissue(runtime, admin, user, viewer, other)
    (finding,) = await _findings(client, admin.headers, base, scan_id)
    assert (finding["status"], finding["vex"]) == ("affected", None)
    # recorded again, already past its expiry: kept in the history, and it does not apply
    assert (await client.put(analysis, headers=admin.headers, json=expiring)).status_code == 200
    (finding,) = await _findings(client, admin.headers, base, scan_id)
    assert (finding["status"], finding["vex"]) == ("affected", None)


async def test_cached_summaries_stop_counting_an_analysis_when_it_expires(
    settings: Settings, clocked: tuple[Runtime, httpx.AsyncClient], moving: list[datetime], tmp_path: Path
) -> None:
    """Image detail, scan history, the verdicts of the findings list and the exports are kept in the read
    cache: an analysis expiring writes nothing, yet what they say changes when the clock passes it."""
    runtime, client = clocked
    now = moving[0]
    published = await publish(runtime, "demo", sbom=small_sbom(("demo-lib", "1.0.0")))
    admin = await make_caller(runtime, client, Role.ADMIN)
    viewer = await make_caller(runtime, client, Role.VIEWER, admin.tenant)
    await grant(runtime, admin.tenant, "demo")
    await import_advisories(
        settings, write_folder(tmp_path / "feed", osv_record("TEST-2024-1", aliases=("CVE-2024-10001",)))
    )
    await scan(settings)
    image = f"/api/docker-images/{published.image.id}"
    base = f"{image}/versions/{published.version.id}"

    async def counts() -> tuple[tuple[int, int], tuple[int, int]]:
        history = (await client.get(f"{base}/scan-history", headers=viewer.headers)).json()
        detail = (await client.get(image, headers=viewer.headers)).json()
        summary, latest = history["items"][0]["summary"], detail["versions"][0]["latestScan"]
        return (summary["total"], summary["suppressed"]), (latest["total"], latest["suppressed"])

    async def shown() -> tuple[str, int]:
        """The finding's status in the list, and how many statements the tenant's OpenVEX holds."""
        (finding,) = await _findings(client, viewer.headers, base, await _scan_id(client, viewer, base))
        document = await client.get(f"{base}/vex?includeTenant=true", headers=viewer.headers)
        return finding["status"], len(document.json()["statements"])

    assert await counts() == ((1, 0), (1, 0))
    body = {
        "state": "false_positive",
        "justification": None,
        "detail": "Not our parser.",
        "response": [],
        "expiresAt": (now + timedelta(hours=2)).isoformat(),
    }
    analysis = f"{base}/findings/CVE-2024-10001/analysis"
    assert (await client.put(analysis, headers=admin.headers, json=body)).status_code == 200
    # read twice: the second answer comes from the cache
    assert await counts() == ((0, 1), (0, 1))
    assert await counts() == ((0, 1), (0, 1))
    assert await shown() == ("false_positive", 1)
    assert await shown() == ("false_positive", 1)
    hits = runtime.read_cache.stats.hits

    moving[0] = now + timedelta(hours=1)
    _reissue(runtime, admin, viewer)
    assert await counts() == ((0, 1), (0, 1))
    assert await shown() == ("false_positive", 1)
    assert runtime.read_cache.stats.hits > hits  # still served from the cache before the expiry

    moving[0] = now + timedelta(hours=2, seconds=1)
    _reissue(runtime, admin, viewer)
    assert await counts() == ((1, 0), (1, 0))
    assert await shown() == ("affected", 0)


async def _scan_id(client: httpx.AsyncClient, caller: Caller, base: str) -> str:
    scan_id: str = (await client.get(f"{base}/scan-history", headers=caller.headers)).json()["items"][0]["id"]
    return scan_id
