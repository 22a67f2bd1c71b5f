"""The console's reading pages, over HTTP: what each shows, that it shows only the tenant's own, and
that errors are pages (the API keeps its JSON)."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from portal.catalog import CatalogService
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import grant, publish
from tests.factories import OPERATOR, make_caller, make_tenant
from tests.web.conftest import DemoTenant
from tests.web.console import console_client, sign_in


@pytest.fixture
async def viewer(app: FastAPI, demo: DemoTenant) -> AsyncIterator[httpx.AsyncClient]:
    """The demo tenant's viewer, signed in to the console."""
    async with console_client(app, "acme") as client:
        email, password = demo.credentials(Role.VIEWER)
        assert (await sign_in(client, email, password)).status_code == 303
        yield client


async def test_catalog_search_and_hardening_tag_filter(runtime: Runtime, viewer: httpx.AsyncClient) -> None:
    await publish(runtime, "not-granted")  # published, but acme is not entitled to it
    everything = (await viewer.get("/")).text
    names = re.findall(r'<h2><a href="/images/[0-9a-f-]+">([^<]+)</a></h2>', everything)
    assert names == ["nginx", "node", "python", "static"]
    assert (await viewer.get("/", params={"q": "PYT"})).text.count('class="card"') == 1
    fips = (await viewer.get("/", params={"tag": "fips"})).text
    assert 'value="fips" selected' in fips
    assert 0 < fips.count('class="card"') < 4


async def test_image_and_version_pages_show_the_pull_reference_sboms_chart_and_findings(
    runtime: Runtime, client: httpx.AsyncClient, demo: DemoTenant, viewer: httpx.AsyncClient
) -> None:
    api_caller = await make_caller(runtime, client, Role.VIEWER, tenant=demo.tenant)
    catalog = (await viewer.get("/")).text
    nginx = re.search(r'href="(/images/[0-9a-f-]+)">nginx<', catalog)
    assert nginx is not None
    image = (await viewer.get(nginx.group(1))).text
    detail = (await client.get(f"/api/docker-{nginx.group(1)[1:]}", headers=api_caller.headers)).json()
    latest = detail["versions"][0]
    assert f'value="{detail["repository"]}@{latest["digest"]}"' in image

    version_path = f"{nginx.group(1)}/versions/{latest['id']}"
    version = (await viewer.get(version_path)).text
    assert '<svg viewBox="0 0 720 260" role="img"' in version
    assert len(re.findall(r'<rect [^>]*class="sev-fill-', version)) >= 2  # a stacked bar
    rows = re.findall(r'<span class="sev-label sev-(\w+)">', version)
    assert rows == ["critical", "critical", "high", "medium"]
    only_high = (await viewer.get(version_path, params={"severity": "high"})).text
    assert re.findall(r'<span class="sev-label sev-(\w+)">', only_high) == ["high"]
    by_risk = (await viewer.get(version_path, params={"sort": "risk"})).text
    assert 'data-sorted="risk"' in by_risk

    for kind in ("spdx", "cyclonedx"):
        page_download = await viewer.get(f"{version_path}/sbom/{kind}")
        api_download = await client.get(
            f"/api/docker-{version_path[1:]}/sbom/{kind}", headers=api_caller.headers
        )
        assert page_download.status_code == 200
        assert page_download.content == api_download.content
        assert page_download.headers["content-disposition"].startswith("attachment;")


async def test_other_tenants_images_are_not_found_as_pages(
    runtime: Runtime, viewer: httpx.AsyncClient
) -> None:
    other = await make_tenant(runtime)
    theirs = await publish(runtime, "theirs")
    async with runtime.db.transaction() as session:
        await CatalogService(session).grant(OPERATOR, other.slug, "theirs")
    for path in (
        f"/images/{theirs.image.id}",
        f"/images/{theirs.image.id}/versions/{theirs.version.id}",
        f"/images/{theirs.image.id}/versions/{theirs.version.id}/sbom/spdx",
        "/images/not-an-id",
        "/no/such/page",
    ):
        answer = await viewer.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "<h1>Not found</h1>" in answer.text
    api = await viewer.get("/api/no/such/route")
    assert (api.status_code, api.json()["error"]) == (404, "NOT_FOUND")


async def test_pages_forbid_framing_and_inline_script(runtime: Runtime, viewer: httpx.AsyncClient) -> None:
    for path in ("/", "/webhooks", "/no/such/page"):
        answer = await viewer.get(path)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        scripts = re.findall(r"<script[^>]*>", answer.text)
        assert scripts and all(" src=" in tag for tag in scripts), scripts
        assert " on" not in "".join(re.findall(r"<[a-z]+ [^>]*>", answer.text)).replace(" one", "")
    api = await viewer.get("/api/status")
    assert "content-security-policy" not in api.headers


async def test_a_version_whose_tags_moved_away_is_named_by_its_digest(
    runtime: Runtime, demo: DemoTenant, viewer: httpx.AsyncClient
) -> None:
    old = await publish(runtime, "moving", tags=("latest",))
    new = await publish(runtime, "moving", tags=("2", "latest"))
    await grant(runtime, demo.tenant, "moving")

    image = (await viewer.get(f"/images/{old.image.id}")).text
    untagged = (await viewer.get(f"/images/{old.image.id}/versions/{old.version.id}")).text

    assert f'versions/{new.version.id}">2, latest</a>' in image
    assert f'versions/{old.version.id}">untagged {old.version.digest[7:19]}</a>' in image
    assert f"<title>moving {old.version.digest[7:19]}" in untagged
