"""The console's writes over HTTP: each goes through the same service (and the same input model) as the
API, each checks the role on the server, and a refused form changes nothing and says why."""

import re

import httpx
from fastapi import FastAPI

from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller
from tests.web.conftest import DemoTenant
from tests.web.console import csrf_of, post_form, signed_in_client

WRITE_CONTROLS = (
    'method="post" action="/watches"',
    'method="post" action="/requests"',
    'method="post" action="/webhooks"',
    "/delete",
    "Redeliver",
)


async def _watched(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    items = (await client.get("/api/cve-watches", headers=headers)).json()["items"]
    return sorted(item["cveId"] for item in items)


async def test_a_viewer_sees_no_write_control_and_its_writes_are_refused(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, demo: DemoTenant
) -> None:
    api = await make_caller(runtime, client, Role.VIEWER, tenant=demo.tenant)
    before = await _watched(client, api.headers)
    async with signed_in_client(runtime, app, demo.tenant, Role.VIEWER) as viewer:
        for path in ("/", "/watches", "/requests", "/webhooks"):
            html = (await viewer.get(path)).text
            for control in WRITE_CONTROLS:
                assert control not in html, (path, control)
        token = csrf_of((await viewer.get("/watches")).text)  # the sign-out form's
        writes = {
            "/watches": {"cve_id": "CVE-2024-3094"},
            "/requests": {"type": "feature", "title": "More images", "description": "Please"},
            "/webhooks": {"url": "https://hooks.example.com/x", "events": "webhook.test"},
        }
        for path, fields in writes.items():
            refused = await viewer.post(path, data={"csrf": token, **fields})
            assert refused.status_code == 403, path
            assert "This needs the" in refused.text and refused.headers["content-type"].startswith(
                "text/html"
            )
    assert await _watched(client, api.headers) == before
    assert (await client.get("/api/webhooks", headers=api.headers)).json()["items"] == []


async def test_an_admin_adds_and_removes_a_watch_and_a_bad_id_is_explained(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, demo: DemoTenant
) -> None:
    api = await make_caller(runtime, client, Role.VIEWER, tenant=demo.tenant)
    before = await _watched(client, api.headers)
    async with signed_in_client(runtime, app, demo.tenant, Role.ADMIN) as admin:
        bad = await post_form(admin, "/watches", "/watches", {"cve_id": "CVE-24-1", "note": ""})
        assert bad.status_code == 400 and "cveId" in bad.text and 'value="CVE-24-1"' in bad.text
        assert await _watched(client, api.headers) == before

        added = await post_form(admin, "/watches", "/watches", {"cve_id": "cve-2024-3094", "note": "xz"})
        assert (added.status_code, added.headers["location"]) == (303, "/watches?done=added")
        assert await _watched(client, api.headers) == sorted([*before, "CVE-2024-3094"])
        page = (await admin.get("/watches?done=added")).text
        card = re.search(r'data-cve="CVE-2024-3094">(.*?)</li>\s*(?:<li|</ul>)', page, re.S)
        assert card is not None and 'Status: <span class="status-unknown">unknown</span>' in card.group(1)

        remove = re.search(
            r'action="(/watches/[0-9a-f-]+/delete)" data-confirm="Stop watching CVE-2024-3094', page
        )
        assert remove is not None
        removed = await admin.post(remove.group(1), data={"csrf": csrf_of(page)})
        assert removed.status_code == 303
        assert await _watched(client, api.headers) == before


async def test_a_user_files_a_request_and_reads_its_history_but_may_not_watch(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    async with signed_in_client(runtime, app, demo.tenant, Role.USER) as user:
        listing = (await user.get("/requests")).text
        assert (
            'action="/requests"' in listing and 'action="/watches"' not in (await user.get("/watches")).text
        )
        short = await post_form(
            user,
            "/requests",
            "/requests",
            {"type": "package", "title": "jq", "description": "x", "package_name": ""},
        )
        assert short.status_code == 400 and "title" in short.text and "packageName" in short.text
        filed = await post_form(
            user,
            "/requests",
            "/requests",
            {"type": "package", "title": "Add jq", "description": "For scripts.", "package_name": "jq"},
        )
        assert filed.status_code == 303
        detail = (await user.get(filed.headers["location"])).text
        assert "Your request is filed" in detail and '<dd id="request-status">open</dd>' in detail
        assert "Add jq" in (await user.get("/requests?type=package")).text
        assert "Add jq" not in (await user.get("/requests?type=bug")).text
        refused = await user.post("/watches", data={"csrf": csrf_of(listing), "cve_id": "CVE-2024-3094"})
        assert refused.status_code == 403


async def test_a_webhook_secret_is_shown_once_and_rotation_shows_a_new_one(
    runtime: Runtime, app: FastAPI, demo: DemoTenant
) -> None:
    async with signed_in_client(runtime, app, demo.tenant, Role.ADMIN) as admin:
        refused = await post_form(
            admin,
            "/webhooks",
            "/webhooks",
            {"url": "ftp://nowhere", "events": "webhook.test", "active": "on"},
        )
        assert refused.status_code == 400 and "The webhook URL is refused" in refused.text
        created = await post_form(
            admin,
            "/webhooks",
            "/webhooks",
            {
                "url": "https://hooks.example.com/portal",
                "events": ["webhook.test", "scan.completed"],
                "active": "on",
            },
        )
        assert created.status_code == 200
        secret = re.search(
            r'id="secret" class="mono" type="text" readonly value="(whsec_[^"]+)"', created.text
        )
        assert secret is not None
        page_path = re.search(r'href="(/webhooks/[0-9a-f-]+)"', created.text)
        assert page_path is not None
        detail = (await admin.get(page_path.group(1))).text
        assert secret.group(1) not in detail and "webhook.test, scan.completed" in detail

        rotated = await admin.post(f"{page_path.group(1)}/rotate-secret", data={"csrf": csrf_of(detail)})
        new_secret = re.search(r'value="(whsec_[^"]+)"', rotated.text)
        assert new_secret is not None and new_secret.group(1) != secret.group(1)
        assert "keeps signing for 24 hours" in rotated.text

        saved = await admin.post(
            f"{page_path.group(1)}/edit",
            data={
                "csrf": csrf_of(detail),
                "url": "https://hooks.example.com/portal",
                "events": "webhook.test",
            },
        )
        assert saved.status_code == 303
        after = (await admin.get(saved.headers["location"])).text
        assert "The webhook is saved." in after and "inactive" in after

        tested = await admin.post(f"{page_path.group(1)}/test", data={"csrf": csrf_of(after)})
        assert tested.status_code == 303
        log = (await admin.get(tested.headers["location"])).text
        assert 'data-event="webhook.test"' in log and 'data-status="pending"' in log
