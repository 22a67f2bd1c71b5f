"""VEX in the console: a tenant's analysis of a finding, what it changes on the version page, the VEX
downloads, and what changed between two versions."""

import re

import httpx
from fastapi import FastAPI

from portal.catalog import PublishingService, PublishRequest
from portal.demo.catalog import DEMO_IMAGES, demo_sbom
from portal.runtime import Runtime
from portal.scanning.tasks import rescan
from portal.users.models import Role
from tests.catalog.factories import digest_of
from tests.factories import OPERATOR, make_caller
from tests.web.conftest import DemoTenant
from tests.web.console import csrf_of, signed_in_client


async def _nginx_version(console: httpx.AsyncClient) -> str:
    catalog = (await console.get("/")).text
    image = re.search(r'href="(/images/[0-9a-f-]+)">nginx<', catalog)
    assert image is not None
    version = re.search(
        r'href="(/images/[0-9a-f-]+/versions/[0-9a-f-]+)"', (await console.get(image.group(1))).text
    )
    assert version is not None
    return version.group(1)


def _rows(html: str) -> list[str]:
    return re.findall(r'/findings/([A-Za-z0-9._-]+)">', html)


async def test_an_analysis_takes_a_finding_out_of_the_open_list_until_withdrawn(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    async with signed_in_client(runtime, app, demo.tenant, Role.ADMIN) as admin:
        version = await _nginx_version(admin)
        before = (await admin.get(version)).text
        assert "CVE-2025-26519" in _rows(before)
        finding = f"{version}/findings/CVE-2025-26519"
        page = (await admin.get(finding)).text
        assert "has not analysed" in page
        recorded = await admin.post(
            finding,
            data={
                "csrf": csrf_of(page),
                "state": "not_affected",
                "justification": "code_not_reachable",
                "detail": "musl's iconv is never called with EUC-KR.",
            },
        )
        assert recorded.status_code == 303
        history = (await admin.get(recorded.headers["location"])).text
        assert "Your analysis is recorded." in history and "code not reachable" in history

        after = (await admin.get(version)).text
        assert "CVE-2025-26519" not in _rows(after)
        assert "1 suppressed by VEX" in (await admin.get(version.rsplit("/versions", 1)[0])).text
        shown = (await admin.get(version, params={"suppressed": "yes"})).text
        assert (
            "CVE-2025-26519" in _rows(shown)
            and 'data-vex="not_affected"' in shown
            and "your analysis" in shown
        )

        withdrawn = await admin.post(f"{finding}/withdraw", data={"csrf": csrf_of(history)})
        assert withdrawn.status_code == 303
        assert "CVE-2025-26519" in _rows((await admin.get(version)).text)
    async with signed_in_client(runtime, app, demo.tenant, Role.USER) as user:
        page = (await user.get(finding)).text
        assert "withdrawn" in page and 'id="analysis-form"' not in page
        refused = await user.post(finding, data={"csrf": csrf_of(page), "state": "not_affected"})
        assert refused.status_code == 403


async def test_the_vex_downloads_are_the_apis_with_the_tenants_analyses(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, demo: DemoTenant
) -> None:
    api = await make_caller(runtime, client, Role.VIEWER, tenant=demo.tenant)
    async with signed_in_client(runtime, app, demo.tenant, Role.VIEWER) as viewer:
        version = await _nginx_version(viewer)
        for kind in ("openvex", "cyclonedx", "cyclonedx-vdr"):
            page = await viewer.get(f"{version}/vex/{kind}")
            from_api = await client.get(
                f"/api/docker-{version[1:]}/vex",
                params={"format": kind, "includeTenant": "true"},
                headers=api.headers,
            )
            assert page.status_code == 200 and page.content == from_api.content, kind
            assert page.headers["content-disposition"].startswith("attachment;")


async def test_a_newer_version_links_to_what_changed(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    nginx = next(image for image in DEMO_IMAGES if image.name == "nginx")
    request = PublishRequest(
        name="nginx",
        repository="registry.example.com/hardened/nginx",  # the demo image's, as every version's is
        digest=digest_of("nginx-1.26.1"),
        tags=("1.26.1", "latest"),
        sbom=demo_sbom(nginx.sbom_file).replace(b"3.3.0-r2", b"3.3.1-r1"),
        architectures=("amd64",),
        hardening_tags=("stig", "non-root", "fips"),
    )
    async with runtime.db.transaction() as session:
        await PublishingService(session, runtime.clock).publish(OPERATOR, request)
    await rescan(runtime.db, runtime.clock, image_name="nginx")
    async with signed_in_client(runtime, app, demo.tenant, Role.VIEWER) as viewer:
        newest = (await viewer.get(await _nginx_version(viewer))).text
        link = re.search(r'href="([^"]+)" id="diff-link"', newest)
        assert link is not None
        diff = await viewer.get(link.group(1).replace("&amp;", "&"))
        assert diff.status_code == 200
        assert "+ fips" in diff.text
        fixed = re.search(r'<ul class="fixed">(.*?)</ul>', diff.text, re.S)
        assert fixed is not None and "CVE-2024-5535" in fixed.group(1)
        assert "libssl3" in diff.text and "3.3.1-r1" in diff.text
