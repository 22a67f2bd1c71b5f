"""A request never holds one database connection while it waits for another.

A process serves many requests at once from a pool of `PORTAL_DATABASE_POOL_SIZE` +
`PORTAL_DATABASE_MAX_OVERFLOW` connections. If a request that holds a connection waited for work needing
a second (a reread of the read cache's revisions, a cached answer computed in a session of its own, an
audit event in a transaction of its own), a pool as busy as its requests would have each of them wait for
connections the others hold, until the pool's timeout failed them all. Here every route of the API and
the console is walked with a pool of one connection and no overflow, the read cache rereading on every
request (the state just after a change): one that waits for a second connection fails after the pool's
timeout instead of answering.
"""

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.config import Settings
from portal.kit.readcache import CATALOG, changed
from portal.runtime import Runtime
from portal.users.models import Role
from tests.conftest import client_for, make_settings
from tests.factories import login, make_caller, make_key_caller
from tests.web.conftest import DemoTenant, seed_demo_tenant
from tests.web.console import console_client, csrf_of, sign_in

POOL_TIMEOUT = 3.0


@pytest.fixture
def narrow_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        database_pool_size=1,
        database_max_overflow=0,
        database_pool_timeout_seconds=POOL_TIMEOUT,
    )


@pytest.fixture
async def demo(runtime: Runtime) -> DemoTenant:
    """The demo tenant, seeded through the roomy `runtime` as the command line would: what is under
    test here is serving it."""
    return await seed_demo_tenant(runtime)


@pytest.fixture
async def narrow(narrow_settings: Settings) -> AsyncIterator[Runtime]:
    """A process serving from one connection, on the database `runtime` seeded."""
    runtime = Runtime.build(narrow_settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    yield runtime
    await runtime.close()


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code < 400, (
        f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
    )
    return response


async def _walk_api(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Every read a tenant's integration makes, twice (the first computes, the second is cached)."""
    for _ in range(2):
        images = _ok(await client.get("/api/docker-images", headers=headers)).json()["items"]
        assert images, "the demo tenant sees its images"
        for image in images:
            detail = _ok(await client.get(f"/api/docker-images/{image['id']}", headers=headers)).json()
            for version in detail["versions"]:
                base = f"/api/docker-images/{image['id']}/versions/{version['id']}"
                history = _ok(await client.get(f"{base}/scan-history", headers=headers)).json()["items"]
                for scan in history[:1]:
                    _ok(await client.get(f"{base}/scans/{scan['id']}", headers=headers))
                    _ok(await client.get(f"{base}/scans/{scan['id']}/findings", headers=headers))
                    _ok(await client.get(f"{base}/scans/{scan['id']}/findings?kev=true", headers=headers))
                for kind in ("openvex", "cyclonedx", "cyclonedx-vdr"):
                    _ok(await client.get(f"{base}/vex?format={kind}&includeTenant=true", headers=headers))
                for kind in ("spdx", "cyclonedx"):
                    _ok(await client.get(f"{base}/sbom/{kind}", headers=headers))
            if len(detail["versions"]) > 1:
                _ok(await client.get(f"/api/docker-images/{image['id']}/diff", headers=headers))
        for path in ("/api/cve-watches", "/api/feature-requests", "/api/auth/me", "/api/status"):
            _ok(await client.get(path, headers=headers))


async def test_the_api_answers_from_one_connection(
    runtime: Runtime,
    demo: DemoTenant,
    narrow: Runtime,
) -> None:
    app = create_app(runtime=narrow)
    async with client_for(app) as client:
        admin = await make_caller(narrow, client, Role.ADMIN, demo.tenant)
        key = await make_key_caller(narrow, client, Role.ADMIN, demo.tenant)
        for caller in (admin, key):
            await _walk_api(client, caller.headers)
            for path in ("/api/webhooks", "/api/users", "/api/api-keys", "/api/audit-events"):
                _ok(await client.get(path, headers=caller.headers))

        # a change seen by the next reads: every cached answer is computed again, under one connection
        async with narrow.db.transaction() as session:
            changed(session, CATALOG)
        await _walk_api(client, admin.headers)

        email, password = demo.credentials(Role.USER)
        refused = await login(client, demo.tenant.slug, email, "not the password")
        assert refused.status_code == 401, refused.text
        signed = _ok(await login(client, demo.tenant.slug, email, password)).json()
        tenant = {"X-Tenant": demo.tenant.slug}
        _ok(
            await client.post(
                "/api/auth/refresh", headers=tenant, json={"refreshToken": signed["refreshToken"]}
            )
        )
        user = {"Authorization": f"Bearer {signed['accessToken']}", "X-Tenant": demo.tenant.slug}
        denied = await client.post("/api/cve-watches", headers=user, json={"cveId": "CVE-2024-0001"})
        assert denied.status_code == 403, denied.text

    # what the refusals recorded was kept: the failed sign-in and the denied write are in the audit log
    async with client_for(app) as client:
        events = _ok(await client.get("/api/audit-events?limit=100", headers=admin.headers)).json()["items"]
    outcomes = {(event["action"], event["outcome"]) for event in events}
    assert ("auth.login", "failure") in outcomes, outcomes
    assert ("access.denied", "denied") in outcomes, outcomes


_LINK = re.compile(r'href="(/[^"#?]*)"')


async def test_the_console_answers_from_one_connection(
    runtime: Runtime,
    demo: DemoTenant,
    narrow: Runtime,
) -> None:
    app = create_app(runtime=narrow)
    email, password = demo.credentials(Role.ADMIN)
    async with console_client(app, demo.tenant.slug) as browser:
        refused = await sign_in(browser, email, "not the password")
        assert refused.status_code == 401, refused.text
        assert (await sign_in(browser, email, password)).status_code == 303
        seen: set[str] = set()
        queue = ["/"]
        while queue:  # every page the console links to, from the front page down
            path = queue.pop()
            if path in seen or path in ("/logout",):
                continue
            seen.add(path)
            page = _ok(await browser.get(path))
            if "text/html" in page.headers.get("content-type", ""):
                queue.extend(link for link in _LINK.findall(page.text) if link not in seen)
        assert any(path.startswith("/images/") for path in seen), sorted(seen)

    user_email, user_password = demo.credentials(Role.USER)
    async with console_client(app, demo.tenant.slug) as browser:
        assert (await sign_in(browser, user_email, user_password)).status_code == 303
        home = await browser.get("/")
        denied = await browser.post("/watches", data={"csrf": csrf_of(home.text), "cve_id": "CVE-2024-0001"})
        assert denied.status_code == 403, denied.text
