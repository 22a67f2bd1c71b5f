"""The findings list pages what one page shows whole, in both orders and under every filter, and keeps its
order when the signals change between two reads (real python-app findings with KEV and EPSS)."""

from pathlib import Path
from typing import Any

import httpx

from portal.config import Settings
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import make_caller
from tests.operator import operator_cli, run_async
from tests.scanning.factories import import_advisories
from tests.scanning.test_intel import EPSS_HEADER, _latest, run_worker
from tests.shared_fixtures import fixtures_dir


async def _pages(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, Any]
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await client.get(
                url, params={**params, "limit": 7, **({"cursor": cursor} if cursor else {})}, headers=headers
            )
        ).json()
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen


async def _epss(settings: Settings, tmp_path: Path, scores: dict[str, float]) -> None:
    path = tmp_path / f"epss-{len(list(tmp_path.iterdir()))}.csv"
    lines = [f"{cve},{score},{score}" for cve, score in scores.items()]
    path.write_text(EPSS_HEADER + "\n".join(lines) + "\n")
    await run_async(operator_cli(settings), "intel", "import", "epss", str(path))


async def test_pages_of_the_list_are_the_whole_list_in_both_orders_and_under_filters(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    sbom = fixtures_dir() / "sboms" / "python-app-syft-1.18.cdx.json"
    published = await publish(runtime, "python-app", sbom=sbom.read_bytes())
    await grant(runtime, caller.tenant, "python-app")
    await import_advisories(settings, fixtures_dir() / "osv" / "pypi-pysec.zip")
    await run_worker(runtime)
    base, detail = await _latest(client, caller.headers, published.image.id)
    cves = sorted(
        {i for f in detail["findings"] for i in [f["vulnerabilityId"], *f["aliases"]] if "CVE-" in i}
    )
    await _epss(settings, tmp_path, {cve: round((n % 10) / 10, 1) for n, cve in enumerate(cves)})
    url = f"{base}/findings"

    for params in (
        {},
        {"sort": "risk"},
        {"sort": "risk", "fixable": "true"},
        {"sort": "risk", "epssMin": 0.5},
        {"severity": ["high", "critical"]},
        {"sort": "risk", "kev": "false", "package": "o"},
    ):
        whole = (await client.get(url, params={**params, "limit": 200}, headers=caller.headers)).json()
        assert whole["nextCursor"] is None and whole["items"], params
        assert await _pages(client, url, caller.headers, params) == whole["items"], params
    risky = (await client.get(url, params={"sort": "risk", "limit": 200}, headers=caller.headers)).json()
    scores = [f["epss"]["score"] if f["epss"] else -1 for f in risky["items"]]
    assert scores == sorted(scores, reverse=True)

    # a page read after an EPSS refresh continues after the finding its cursor names, in the new order
    first = (await client.get(url, params={"sort": "risk", "limit": 5}, headers=caller.headers)).json()
    await _epss(settings, tmp_path, {cve: 0.01 for cve in cves})
    after = (
        await client.get(
            url, params={"sort": "risk", "limit": 200, "cursor": first["nextCursor"]}, headers=caller.headers
        )
    ).json()
    now = (await client.get(url, params={"sort": "risk", "limit": 200}, headers=caller.headers)).json()
    last = first["items"][-1]
    shown = [(f["vulnerabilityId"], f["package"]["purl"]) for f in now["items"]]
    at = shown.index((last["vulnerabilityId"], last["package"]["purl"]))
    assert after["items"] == now["items"][at + 1 :]
