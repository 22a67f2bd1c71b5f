"""Every write leaves exactly one audit event, through the API and through the command line.

The test walks the OpenAPI document's write operations and the `portal` command tree. Each must have a
scenario here that performs it once and names the event it expects (action, actor, target). A write
added later without one fails `test_every_write_route_has_a_scenario` or
`test_every_cli_command_is_classified`, with what to do: record the event in the service (docs/access.md,
"Recording what happened") and add the scenario below.
"""

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi import FastAPI
from typer.core import TyperGroup
from typer.testing import CliRunner

from portal.advisories.service import AdvisoryService
from portal.audit import AuditAction
from portal.audit.models import AuditEvent
from portal.auth.actor import ActorType
from portal.background import job_handlers
from portal.cli.main import app as cli_app
from portal.config import Settings
from portal.jobs.runner import JobWorker
from portal.kit.clock import rfc3339
from portal.requests.models import RequestType
from portal.requests.service import FeatureRequestService, NewRequest
from portal.runtime import Runtime
from portal.users.models import Role
from tests.advisories.factories import osv_record, write_folder
from tests.audit.probe import AuditProbe
from tests.catalog.factories import digest_of, grant, publish, small_sbom, unpublish
from tests.factories import Caller, make_caller, make_key_caller, make_tenant
from tests.operator import operator_cli, run_async

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HOOK_URL = "https://hooks.example.com/audit"

HOW_TO_AUDIT = (
    "Every write must leave exactly one audit event. In the service that makes the change, call "
    "portal.audit.record_audit(session, actor, AuditAction.<ACTION>, AuditTarget(<type>, <id>, <name>)) "
    "in the same unit of work (add the action to portal/audit/actions.py with its description, and to "
    "the table in docs/access.md); then add a scenario for it in tests/audit/test_completeness.py."
)


@dataclass
class Expected:
    action: AuditAction
    target_id: str | None
    actor_type: ActorType = ActorType.USER
    actor_id: str | None = None  # None: the admin caller for API writes, nobody for the operator


@dataclass
class ApiWorld:
    runtime: Runtime
    client: httpx.AsyncClient
    admin: Caller
    probe: AuditProbe
    writes: list[tuple[str, str]] = field(default_factory=list)
    found: list[AuditEvent] = field(default_factory=list)

    async def write(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The one audited request of a scenario; what happens before it is set-up."""
        await self.probe.mark()
        response = await self.client.request(method, path, json=body, headers=headers or self.admin.headers)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        self.writes.append((method, path))
        self.found = await self.probe.since_mark()
        return response

    async def setup(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.request(method, path, json=body, headers=self.admin.headers)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    async def login(self) -> dict[str, Any]:
        response = await self.client.post(
            "/api/auth/login",
            headers={"X-Tenant": self.admin.tenant.slug},
            json={"email": self.admin.user.email, "password": self.admin.password},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def webhook(self) -> str:
        created = await self.setup("POST", "/api/webhooks", {"url": HOOK_URL, "events": ["scan.completed"]})
        return str(created["id"])


ApiScenario = Callable[[ApiWorld], Awaitable[Expected]]


async def _login(w: ApiWorld) -> Expected:
    tenant = {"X-Tenant": w.admin.tenant.slug}
    body = {"email": w.admin.user.email, "password": w.admin.password}
    await w.write("POST", "/api/auth/login", body, headers=tenant)
    return Expected(AuditAction.LOGIN, w.admin.user.id)


async def _refresh(w: ApiWorld) -> Expected:
    tokens = await w.login()
    body = {"refreshToken": tokens["refreshToken"]}
    await w.write("POST", "/api/auth/refresh", body, headers={"X-Tenant": w.admin.tenant.slug})
    return Expected(AuditAction.TOKEN_REFRESHED, w.admin.user.id)


async def _logout(w: ApiWorld) -> Expected:
    tokens = await w.login()
    body = {"refreshToken": tokens["refreshToken"]}
    await w.write("POST", "/api/auth/logout", body, headers={"X-Tenant": w.admin.tenant.slug})
    return Expected(AuditAction.LOGOUT, w.admin.user.id)


async def _watch(w: ApiWorld) -> Expected:
    created = await w.write("POST", "/api/cve-watches", {"cveId": "CVE-2024-3094"})
    return Expected(AuditAction.CVE_WATCH_CREATED, created.json()["id"])


async def _unwatch(w: ApiWorld) -> Expected:
    watch = await w.setup("POST", "/api/cve-watches", {"cveId": "CVE-2024-3094"})
    await w.write("DELETE", f"/api/cve-watches/{watch['id']}")
    return Expected(AuditAction.CVE_WATCH_DELETED, watch["id"])


async def _file_request(w: ApiWorld) -> Expected:
    body = {"type": "feature", "title": "Audit it", "description": "Who did what."}
    created = await w.write("POST", "/api/feature-requests", body)
    return Expected(AuditAction.FEATURE_REQUEST_FILED, created.json()["id"])


async def _create_webhook(w: ApiWorld) -> Expected:
    created = await w.write("POST", "/api/webhooks", {"url": HOOK_URL, "events": ["scan.completed"]})
    return Expected(AuditAction.WEBHOOK_CREATED, created.json()["id"])


async def _update_webhook(w: ApiWorld) -> Expected:
    hook = await w.webhook()
    await w.write("PUT", f"/api/webhooks/{hook}", {"events": ["image.version.published"]})
    return Expected(AuditAction.WEBHOOK_UPDATED, hook)


async def _delete_webhook(w: ApiWorld) -> Expected:
    hook = await w.webhook()
    await w.write("DELETE", f"/api/webhooks/{hook}")
    return Expected(AuditAction.WEBHOOK_DELETED, hook)


async def _rotate_secret(w: ApiWorld) -> Expected:
    hook = await w.webhook()
    await w.write("POST", f"/api/webhooks/{hook}/rotate-secret")
    return Expected(AuditAction.WEBHOOK_SECRET_ROTATED, hook)


async def _test_webhook(w: ApiWorld) -> Expected:
    hook = await w.webhook()
    await w.write("POST", f"/api/webhooks/{hook}/test")
    return Expected(AuditAction.WEBHOOK_TESTED, hook)


async def _redeliver(w: ApiWorld) -> Expected:
    hook = await w.webhook()
    delivery = await w.setup("POST", f"/api/webhooks/{hook}/test")
    await w.write("POST", f"/api/webhooks/{hook}/deliveries/{delivery['id']}/redeliver")
    return Expected(AuditAction.WEBHOOK_REDELIVERED, delivery["id"])


async def _scanned_finding(w: ApiWorld) -> str:
    """The base path of a version of an image the admin's tenant sees, scanned with one finding."""
    async with w.runtime.db.transaction() as session:
        await AdvisoryService(session, w.runtime.clock).import_records(
            [("audit", osv_record("PYSEC-2099-2", "demo-lib", aliases=("CVE-2099-2",)))]
        )
    published = await publish(w.runtime, "audited", sbom=small_sbom(("demo-lib", "1.0.0")))
    await grant(w.runtime, w.admin.tenant, "audited")
    await JobWorker(w.runtime, job_handlers(w.runtime)).run_due()
    return f"/api/docker-images/{published.image.id}/versions/{published.version.id}"


async def _record_analysis(w: ApiWorld) -> Expected:
    base = await _scanned_finding(w)
    recorded = await w.write("PUT", f"{base}/findings/CVE-2099-2/analysis", {"state": "in_triage"})
    return Expected(AuditAction.FINDING_ANALYSIS_RECORDED, recorded.json()["id"])


async def _withdraw_analysis(w: ApiWorld) -> Expected:
    base = await _scanned_finding(w)
    await w.setup("PUT", f"{base}/findings/CVE-2099-2/analysis", {"state": "in_triage"})
    await w.write("DELETE", f"{base}/findings/CVE-2099-2/analysis")
    (entry, *_) = (await w.setup("GET", f"{base}/findings/CVE-2099-2/analysis"))["items"]
    return Expected(AuditAction.FINDING_ANALYSIS_WITHDRAWN, entry["id"])


async def _create_key(w: ApiWorld) -> Expected:
    body = {"name": "ci", "role": "viewer", "expiresAt": rfc3339(w.runtime.clock() + timedelta(days=7))}
    created = await w.write("POST", "/api/api-keys", body)
    return Expected(AuditAction.API_KEY_CREATED, created.json()["id"])


async def _revoke_key(w: ApiWorld) -> Expected:
    body = {"name": "ci", "role": "viewer", "expiresAt": rfc3339(w.runtime.clock() + timedelta(days=7))}
    key = await w.setup("POST", "/api/api-keys", body)
    await w.write("DELETE", f"/api/api-keys/{key['id']}")
    return Expected(AuditAction.API_KEY_REVOKED, key["id"])


async def _invite_user(w: ApiWorld) -> Expected:
    created = await w.write("POST", "/api/users", {"email": "invited@example.com", "role": "user"})
    return Expected(AuditAction.USER_CREATED, created.json()["user"]["id"])


async def _change_user(w: ApiWorld) -> Expected:
    invited = await w.setup("POST", "/api/users", {"email": "invited@example.com", "role": "user"})
    await w.write("PATCH", f"/api/users/{invited['user']['id']}", {"role": "viewer"})
    return Expected(AuditAction.USER_UPDATED, invited["user"]["id"])


async def _activate(w: ApiWorld) -> Expected:
    invited = await w.setup("POST", "/api/users", {"email": "invited@example.com", "role": "user"})
    body = {"token": invited["activationToken"], "password": "a-long-enough-password"}
    await w.write("POST", "/api/auth/activate", body, headers={"X-Tenant": w.admin.tenant.slug})
    user_id = invited["user"]["id"]
    return Expected(AuditAction.ACCOUNT_ACTIVATED, user_id, actor_id=user_id)


# "METHOD /path as the OpenAPI document writes it" -> the scenario that performs it once.
API_WRITES: dict[str, ApiScenario] = {
    "POST /api/api-keys": _create_key,
    "DELETE /api/api-keys/{key_id}": _revoke_key,
    "POST /api/auth/login": _login,
    "POST /api/auth/refresh": _refresh,
    "POST /api/auth/logout": _logout,
    "POST /api/auth/activate": _activate,
    "POST /api/users": _invite_user,
    "PATCH /api/users/{user_id}": _change_user,
    "POST /api/cve-watches": _watch,
    "DELETE /api/cve-watches/{watch_id}": _unwatch,
    "POST /api/feature-requests": _file_request,
    "POST /api/webhooks": _create_webhook,
    "PUT /api/webhooks/{webhook_id}": _update_webhook,
    "DELETE /api/webhooks/{webhook_id}": _delete_webhook,
    "POST /api/webhooks/{webhook_id}/rotate-secret": _rotate_secret,
    "POST /api/webhooks/{webhook_id}/test": _test_webhook,
    "POST /api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": _redeliver,
    "PUT /api/docker-images/{image_id}/versions/{version_id}/findings/{vulnerability_id}/analysis": (
        _record_analysis
    ),
    "DELETE /api/docker-images/{image_id}/versions/{version_id}/findings/{vulnerability_id}/analysis": (
        _withdraw_analysis
    ),
}


def write_operations(app: FastAPI) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() in WRITE_METHODS
    }


def test_every_write_route_has_a_scenario(app: FastAPI) -> None:
    missing = write_operations(app) - API_WRITES.keys()
    assert not missing, f"write routes without an audit scenario: {sorted(missing)}. {HOW_TO_AUDIT}"
    gone = API_WRITES.keys() - write_operations(app)
    assert not gone, f"scenarios for routes the app no longer has: {sorted(gone)}"


def _check(found: list[AuditEvent], expected: Expected, label: str) -> None:
    assert len(found) == 1, (
        f"{label} wrote {len(found)} audit events ({[e.action for e in found]}), not one. {HOW_TO_AUDIT}"
    )
    (event,) = found
    got = (event.action, event.actor_type, event.actor_id, event.target_id, event.outcome)
    want = (
        expected.action.value,
        expected.actor_type.value,
        expected.actor_id,
        expected.target_id,
        "success",
    )
    assert got == want, f"{label}: (action, actor type, actor id, target id, outcome) {got} != {want}"


@pytest.mark.parametrize("operation", sorted(API_WRITES))
async def test_each_write_route_records_one_event(
    operation: str, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    world = ApiWorld(runtime, client, admin, AuditProbe(runtime))
    expected = await API_WRITES[operation](world)
    assert len(world.writes) == 1, f"the scenario of {operation} must make exactly one audited request"
    if expected.actor_id is None and expected.actor_type == ActorType.USER:
        expected.actor_id = admin.user.id
    _check(world.found, expected, operation)
    (event,) = world.found
    assert event.tenant_id == admin.tenant.id
    assert event.client_ip == "198.51.100.10" and event.request_id


# The command line.


@dataclass
class CliWorld:
    runtime: Runtime
    cli: CliRunner
    probe: AuditProbe
    folder: Path
    commands: list[tuple[str, ...]] = field(default_factory=list)
    found: list[AuditEvent] = field(default_factory=list)

    async def write(self, *args: str) -> dict[str, Any]:
        await self.probe.mark()
        output = await run_async(self.cli, *args, "--json")
        self.commands.append(args)
        self.found = await self.probe.since_mark()
        body: dict[str, Any] = json.loads(output)
        return body

    async def tenant_slug(self) -> str:
        return (await make_tenant(self.runtime)).slug

    async def user(self, slug: str) -> str:
        password = secrets.token_urlsafe(16)
        await run_async(
            self.cli,
            *("users", "create", "--tenant", slug, "--email", "ops@example.com", "--role", "user"),
            "--password-stdin",
            stdin=password + "\n",
        )
        return "ops@example.com"


CliScenario = Callable[[CliWorld], Awaitable[Expected]]


def _operator(action: AuditAction, target_id: str | None) -> Expected:
    return Expected(action, target_id, actor_type=ActorType.OPERATOR)


async def _tenants_create(w: CliWorld) -> Expected:
    created = await w.write("tenants", "create", "audited", "--name", "Audited")
    return _operator(AuditAction.TENANT_CREATED, created["id"])


async def _users_create(w: CliWorld) -> Expected:
    slug = await w.tenant_slug()
    await w.probe.mark()
    output = await run_async(
        w.cli,
        *("users", "create", "--tenant", slug, "--email", "new@example.com", "--role", "viewer"),
        *("--password-stdin", "--json"),
        stdin="a-long-enough-password\n",
    )
    w.commands.append(("users", "create"))
    w.found = await w.probe.since_mark()
    return _operator(AuditAction.USER_CREATED, json.loads(output)["id"])


def _user_change(*command: str, action: AuditAction = AuditAction.USER_UPDATED) -> CliScenario:
    async def scenario(w: CliWorld) -> Expected:
        slug = await w.tenant_slug()
        email = await w.user(slug)
        if command == ("users", "enable"):
            await run_async(w.cli, "users", "disable", "--tenant", slug, "--email", email)
        extra = ("--role", "viewer") if command == ("users", "set-role") else ()
        if command == ("users", "set-password"):
            await w.probe.mark()
            output = await run_async(
                w.cli,
                *command,
                *("--tenant", slug, "--email", email, "--password-stdin", "--json"),
                stdin="another-long-password\n",
            )
            w.commands.append(command)
            w.found = await w.probe.since_mark()
            changed = json.loads(output)
        else:
            changed = await w.write(*command, "--tenant", slug, "--email", email, *extra)
        return _operator(action, changed["id"])

    return scenario


async def _published(w: CliWorld, name: str = "audited") -> tuple[str, str, dict[str, Any]]:
    sbom = w.folder / "sbom.cdx.json"
    sbom.write_bytes(small_sbom())
    digest = digest_of()
    created = await w.write(
        *("images", "publish", "--name", name, "--repository", f"registry.example.com/{name}"),
        *("--tag", "1", "--digest", digest, "--sbom", str(sbom)),
    )
    return name, digest, created


async def _images_publish(w: CliWorld) -> Expected:
    _name, _digest, created = await _published(w)
    return _operator(AuditAction.VERSION_PUBLISHED, created["versionId"])


async def _images_unpublish(w: CliWorld) -> Expected:
    published = await publish(w.runtime, "audited")
    done = await w.write("images", "unpublish", "--image", "audited", "--digest", published.version.digest)
    return _operator(AuditAction.VERSION_UNPUBLISHED, done["versionId"])


async def _images_republish(w: CliWorld) -> Expected:
    published = await publish(w.runtime, "audited")
    await unpublish(w.runtime, "audited", published.version.digest)
    done = await w.write("images", "republish", "--image", "audited", "--digest", published.version.digest)
    return _operator(AuditAction.VERSION_REPUBLISHED, done["versionId"])


async def _images_grant(w: CliWorld) -> Expected:
    published = await publish(w.runtime, "audited")
    slug = await w.tenant_slug()
    await w.write("images", "grant", "--tenant", slug, "--image", "audited")
    return _operator(AuditAction.IMAGE_GRANTED, published.image.id)


async def _images_revoke(w: CliWorld) -> Expected:
    published = await publish(w.runtime, "audited")
    tenant = await make_tenant(w.runtime)
    await grant(w.runtime, tenant, "audited")
    await w.write("images", "revoke", "--tenant", tenant.slug, "--image", "audited")
    return _operator(AuditAction.IMAGE_ACCESS_REVOKED, published.image.id)


async def _advisories_import(w: CliWorld) -> Expected:
    folder = write_folder(w.folder / "osv", osv_record("PYSEC-2099-1", "requests"))
    await w.write("advisories", "import", str(folder))
    return _operator(AuditAction.ADVISORIES_IMPORTED, None)


async def _intel_kev(w: CliWorld) -> Expected:
    path = w.folder / "kev.json"
    entry = {"cveID": "CVE-2024-3094", "dateAdded": "2024-03-29", "vendorProject": "xz", "product": "xz"}
    path.write_text(json.dumps({"catalogVersion": "2024.03.29", "vulnerabilities": [entry]}))
    await w.write("intel", "import", "kev", str(path))
    return _operator(AuditAction.KEV_IMPORTED, None)


async def _intel_epss(w: CliWorld) -> Expected:
    path = w.folder / "epss_scores-2025-03-14.csv"
    path.write_text(
        "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\ncve,epss,percentile\n"
        "CVE-2024-3094,0.9,0.99\n"
    )
    await w.write("intel", "import", "epss", str(path))
    return _operator(AuditAction.EPSS_IMPORTED, None)


async def _scan(w: CliWorld) -> Expected:
    await publish(w.runtime, "audited")
    await w.write("scan", "--image", "audited")
    return _operator(AuditAction.SCAN_RUN, None)


async def _requests_set_status(w: CliWorld) -> Expected:
    tenant = await make_tenant(w.runtime)
    filer = await make_caller(w.runtime, httpx.AsyncClient(), Role.USER, tenant)
    async with w.runtime.db.transaction() as session:
        from portal.auth.actor import Actor

        actor = Actor.user(filer.user.id, filer.user.email, Role.USER, tenant.ref)
        new = NewRequest(type=RequestType.FEATURE, title="More", description="Please")
        view, _ = await FeatureRequestService(session).file(actor, new)
    await w.write("requests", "set-status", view.request.id, "planned")
    return _operator(AuditAction.FEATURE_REQUEST_STATUS_SET, view.request.id)


def _openvex_file(w: CliWorld) -> Path:
    path = w.folder / "vendor.openvex.json"
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://vendor.example/vex/audit",
        "author": "Vendor",
        "timestamp": "2025-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2099-3"},
                "products": [{"@id": "pkg:pypi/requests"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_present",
            }
        ],
    }
    path.write_text(json.dumps(document))
    return path


async def _vex_import(w: CliWorld) -> Expected:
    await w.write("vex", "import", str(_openvex_file(w)))
    return _operator(AuditAction.VEX_IMPORTED, None)


VEX_ADD = ("vex", "add", "--image", "audited", "--all-versions", "--vulnerability", "CVE-2099-3")


async def _vex_add(w: CliWorld) -> Expected:
    await publish(w.runtime, "audited")
    added = await w.write(*VEX_ADD, "--status", "under_investigation")
    return _operator(AuditAction.VEX_STATEMENT_ADDED, added["id"])


async def _vex_revoke(w: CliWorld) -> Expected:
    await publish(w.runtime, "audited")
    added = json.loads(await run_async(w.cli, *VEX_ADD, "--status", "under_investigation", "--json"))
    await w.write("vex", "revoke", added["id"])
    return _operator(AuditAction.VEX_STATEMENT_REVOKED, added["id"])


async def _api_keys_revoke(w: CliWorld) -> Expected:
    caller = await make_key_caller(w.runtime, httpx.AsyncClient(), Role.USER)
    await w.write("api-keys", "revoke", caller.api_key[:12], "--tenant", caller.tenant.slug)
    return _operator(AuditAction.API_KEY_REVOKED, caller.api_key_id)


async def _secrets_rotate(w: CliWorld) -> Expected:
    await w.write("secrets", "rotate")
    return _operator(AuditAction.SECRETS_ROTATED, None)


CLI_WRITES: dict[str, CliScenario] = {
    "api-keys revoke": _api_keys_revoke,
    "tenants create": _tenants_create,
    "users create": _users_create,
    "users disable": _user_change("users", "disable"),
    "users enable": _user_change("users", "enable"),
    "users set-role": _user_change("users", "set-role"),
    "users set-password": _user_change("users", "set-password", action=AuditAction.USER_PASSWORD_SET),
    "images publish": _images_publish,
    "images unpublish": _images_unpublish,
    "images republish": _images_republish,
    "images grant": _images_grant,
    "images revoke": _images_revoke,
    "advisories import": _advisories_import,
    "intel import kev": _intel_kev,
    "intel import epss": _intel_epss,
    "scan": _scan,
    "requests set-status": _requests_set_status,
    "secrets rotate": _secrets_rotate,
    "vex import": _vex_import,
    "vex add": _vex_add,
    "vex revoke": _vex_revoke,
}

CLI_READS = {
    "api-keys list",
    "db status",
    "tenants list",
    "users list",
    "images list",
    "images diff",
    "requests list",
    "requests show",
    "findings",
    "vex list",
    "audit list",
    "secrets new-key",
}
# Commands that change data yet are not one act to record, and why.
CLI_EXEMPT = {
    "serve": "runs the API, whose requests are audited one by one",
    "worker": "runs queued work on behalf of acts already recorded",
    "db upgrade": "changes the schema, not what any tenant or the vendor owns",
    "demo": "seeds through the services, each of which records its own events",
}


def cli_commands() -> set[str]:
    root = typer.main.get_group(cli_app)
    found: set[str] = set()

    def walk(group: TyperGroup, prefix: tuple[str, ...]) -> None:
        context = group.context_class(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            if isinstance(command, TyperGroup):
                walk(command, (*prefix, name))
            else:
                found.add(" ".join((*prefix, name)))

    walk(root, ())
    return found


def test_every_cli_command_is_classified() -> None:
    commands = cli_commands()
    unknown = commands - CLI_WRITES.keys() - CLI_READS - CLI_EXEMPT.keys()
    assert not unknown, (
        f"commands not yet classified in tests/audit/test_completeness.py: {sorted(unknown)}. A command that "
        f"only reads goes in CLI_READS; one that writes needs a scenario in CLI_WRITES. {HOW_TO_AUDIT}"
    )
    gone = (CLI_WRITES.keys() | CLI_READS | CLI_EXEMPT.keys()) - commands
    assert not gone, f"classified commands the CLI no longer has: {sorted(gone)}"


@pytest.mark.parametrize("command", sorted(CLI_WRITES))
async def test_each_cli_write_records_one_event(
    command: str, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    world = CliWorld(runtime, operator_cli(settings), AuditProbe(runtime), tmp_path)
    expected = await CLI_WRITES[command](world)
    assert len(world.commands) == 1, (
        f"the scenario of `portal {command}` must run exactly one audited command"
    )
    _check(world.found, expected, f"portal {command}")
    (event,) = world.found
    assert event.actor_name and event.user_agent == "portal-cli" and event.request_id
