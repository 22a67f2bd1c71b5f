"""The audit log page: what the console does is there, recorded by the same services as the API's."""

import json

from fastapi import FastAPI

from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_tenant
from tests.web.console import post_form, signed_in_client


async def test_an_admin_reads_what_was_done_in_the_console_and_others_may_not(
    runtime: Runtime, app: FastAPI
) -> None:
    tenant = await make_tenant(runtime)
    async with signed_in_client(runtime, app, tenant, Role.ADMIN) as admin:
        added = await post_form(admin, "/watches", "/watches", {"cve_id": "CVE-2024-3094", "note": ""})
        assert added.status_code == 303
        page = (await admin.get("/audit")).text
        assert '<tr data-action="cve_watch.created">' in page and '<tr data-action="auth.login">' in page
        only_logins = (await admin.get("/audit", params={"action": "auth.login"})).text
        assert "cve_watch.created</td>" not in only_logins and "auth.login</td>" in only_logins
        export = await admin.get("/audit/export")
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert [line["action"] for line in lines][:2] == ["cve_watch.created", "auth.login"]
    async with signed_in_client(runtime, app, tenant, Role.USER) as user:
        assert 'href="/audit"' not in (await user.get("/")).text
        for path in ("/audit", "/audit/export"):
            refused = await user.get(path)
            assert refused.status_code == 403 and "for admins" in refused.text
