import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.demo.catalog import seed_demo_catalog
from portal.demo.vulnerabilities import (
    DemoScan,
    DemoWatchStatus,
    demo_advisory_records,
    demo_watch_statuses,
    import_demo_advisories,
    latest_demo_scans,
    scan_unscanned_demo_images,
    watch_demo_cves,
)
from portal.runtime import Runtime
from portal.tenants.service import TenantService
from portal.users.models import Role
from portal.users.service import UserService

DEMO_TENANT = "acme"
DEMO_TENANT_NAME = "Acme Corporation"
DEMO_ADMIN = "admin@acme.example"
DEMO_USERS = (
    (DEMO_ADMIN, Role.ADMIN),
    ("user@acme.example", Role.USER),
    ("viewer@acme.example", Role.VIEWER),
)
CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoCredentials:
    tenant: str
    users: dict[str, tuple[Role, str]]  # email -> (role, password)
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoReport:
    """What the demo holds after a run (the same on every run) and what this run added."""

    credentials: DemoCredentials
    advisories: tuple[str, ...]
    scans: tuple[DemoScan, ...]
    watches: tuple[DemoWatchStatus, ...]
    advisories_added: int
    images_scanned: tuple[str, ...]
    watches_added: int


async def run_demo(runtime: Runtime, actor: Actor) -> DemoReport:
    """Seeds the demo and makes it show the whole product: advisories, a scan of every demo version and
    CVE watches. Idempotent: a second run adds nothing.

    The seeding commits before the scan job runs, because that job commits batch by batch on its own.
    `actor` is who seeds it (the operator at the command line); what the demo creates is theirs.
    """
    async with runtime.db.transaction() as session:
        credentials = await seed_demo(runtime, session, actor)
        imported = await import_demo_advisories(session, runtime.clock)
        tenant = await TenantService(session, runtime.clock).find(DEMO_TENANT)
        if tenant is None:
            raise RuntimeError("seed_demo left no demo tenant")
        watches_added = await watch_demo_cves(session, runtime.clock, actor.within(tenant.ref))
    scanned = await scan_unscanned_demo_images(runtime)
    async with runtime.db.transaction() as session:
        scans = await latest_demo_scans(session)
        watches = await demo_watch_statuses(session, tenant.id)
    return DemoReport(
        credentials=credentials,
        advisories=tuple(str(record["id"]) for _source, record in demo_advisory_records()),
        scans=tuple(scans),
        watches=tuple(watches),
        advisories_added=imported.imported + imported.updated,
        images_scanned=tuple(scanned),
        watches_added=watches_added,
    )


async def seed_demo(runtime: Runtime, session: AsyncSession, actor: Actor) -> DemoCredentials:
    """Creates what is missing and keeps what exists, so it can run on every start.

    Passwords are generated once and kept in the data directory (readable by its owner only), so that a
    second run can print them again; an existing user whose password is not on file gets a new one.
    """
    stored = _load_passwords(runtime.settings.data_dir)
    tenant = await TenantService(session, runtime.clock).find(DEMO_TENANT)
    if tenant is None:
        tenant = await TenantService(session, runtime.clock).create(actor, DEMO_TENANT, DEMO_TENANT_NAME)
    in_tenant = actor.within(tenant.ref)
    users = UserService(session, runtime)
    credentials: dict[str, tuple[Role, str]] = {}
    for email, role in DEMO_USERS:
        password = stored.get(email) or secrets.token_urlsafe(12)
        user = await users.by_email(tenant.id, email)
        if user is None:
            await users.create(in_tenant, email, role, password)
        elif email not in stored:
            await users.set_password(in_tenant, email, password)
        credentials[email] = (role, password)
    images = await seed_demo_catalog(runtime, session, actor, DEMO_TENANT)
    _save_passwords(runtime.settings.data_dir, {email: pw for email, (_r, pw) in credentials.items()})
    return DemoCredentials(tenant=DEMO_TENANT, users=credentials, images=tuple(images))


def _load_passwords(data_dir: Path) -> dict[str, str]:
    path = data_dir / CREDENTIALS_FILE
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text())
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _save_passwords(data_dir: Path, passwords: dict[str, str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    path.touch(mode=0o600)
    path.chmod(0o600)  # touch leaves an existing file's wider mode alone
    path.write_text(json.dumps(passwords, indent=2) + "\n")
