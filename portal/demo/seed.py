import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from portal.demo.catalog import seed_demo_catalog
from portal.runtime import Runtime
from portal.tenants.repository import TenantRepository
from portal.tenants.service import TenantService
from portal.users.models import Role
from portal.users.repository import UserRepository
from portal.users.service import UserService

DEMO_TENANT = "acme"
DEMO_TENANT_NAME = "Acme Corporation"
DEMO_USERS = (
    ("admin@acme.example", Role.ADMIN),
    ("user@acme.example", Role.USER),
    ("viewer@acme.example", Role.VIEWER),
)
CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoCredentials:
    tenant: str
    users: dict[str, tuple[Role, str]]  # email -> (role, password)
    images: tuple[str, ...] = ()


async def seed_demo(runtime: Runtime, session: AsyncSession) -> DemoCredentials:
    """Creates what is missing and keeps what exists, so it can run on every start.

    Passwords are generated once and kept in the data directory (readable by its owner only), so that a
    second run can print them again; an existing user whose password is not on file gets a new one.
    """
    stored = _load_passwords(runtime.settings.data_dir)
    tenant = await TenantRepository(session).by_slug(DEMO_TENANT)
    if tenant is None:
        tenant = await TenantService(session, runtime.clock).create(DEMO_TENANT, DEMO_TENANT_NAME)
    users = UserService(session, runtime.hasher, runtime.clock)
    existing = UserRepository(session)
    credentials: dict[str, tuple[Role, str]] = {}
    for email, role in DEMO_USERS:
        password = stored.get(email) or secrets.token_urlsafe(12)
        user = await existing.by_email(tenant.id, email)
        if user is None:
            await users.create(tenant, email, role, password)
        elif email not in stored:
            await users.set_password(tenant, email, password)
        credentials[email] = (role, password)
    images = await seed_demo_catalog(runtime, session, DEMO_TENANT)
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
    path.write_text(json.dumps(passwords, indent=2) + "\n")
