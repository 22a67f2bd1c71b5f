"""Small typed factories: tenants, users and logged-in callers, made through the real services."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

import httpx

from portal.auth.actor import Actor
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.tenants.service import TenantService
from portal.users.models import Role, User
from portal.users.service import UserService

# The operator as tests act: the command line's actor, with a fixed name.
OPERATOR = Actor.operator("test-operator")


@dataclass
class Caller:
    """A user of a tenant with a live access token, or (with `api_key`) an API key that user created,
    which `headers` then present instead."""

    tenant: Tenant
    user: User
    password: str
    access_token: str = ""
    refresh_token: str = ""
    api_key: str = ""
    api_key_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        credential = self.api_key or self.access_token
        return {"X-Tenant": self.tenant.slug, "Authorization": f"Bearer {credential}"}


async def make_tenant(runtime: Runtime, slug: str | None = None, name: str = "Test Tenant") -> Tenant:
    async with runtime.db.transaction() as session:
        return await TenantService(session, runtime.clock).create(
            OPERATOR, slug or f"t-{secrets.token_hex(4)}", name
        )


async def make_user(
    runtime: Runtime,
    tenant: Tenant,
    role: Role = Role.USER,
    email: str | None = None,
    password: str | None = None,
) -> tuple[User, str]:
    password = password or secrets.token_urlsafe(16)
    async with runtime.db.transaction() as session:
        user = await UserService(session, runtime).create(
            OPERATOR.within(tenant.ref),
            email or f"{role.value}-{secrets.token_hex(3)}@example.com",
            role,
            password,
        )
    return user, password


async def login(client: httpx.AsyncClient, tenant_slug: str, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/auth/login", headers={"X-Tenant": tenant_slug}, json={"email": email, "password": password}
    )


async def make_caller(
    runtime: Runtime, client: httpx.AsyncClient, role: Role = Role.USER, tenant: Tenant | None = None
) -> Caller:
    """A user of `tenant` (a new one by default) with live tokens. Tokens are issued directly, not through
    login, so tests stay clear of the login rate limit."""
    tenant = tenant or await make_tenant(runtime)
    user, password = await make_user(runtime, tenant, role)
    caller = Caller(tenant=tenant, user=user, password=password)
    caller.access_token = runtime.tokens.issue(user.id, tenant.id, role.value)
    return caller


async def make_key_caller(
    runtime: Runtime,
    client: httpx.AsyncClient,
    role: Role = Role.USER,
    tenant: Tenant | None = None,
    owner_role: Role | None = None,
) -> Caller:
    """An API key of `role`, created through the real service by a new user (of `owner_role`, by default
    the same role) of `tenant` (a new one by default)."""
    from portal.apikeys.service import ApiKeyService

    caller = await make_caller(runtime, client, owner_role or role, tenant)
    owner = Actor.user(caller.user.id, caller.user.email, owner_role or role, caller.tenant.ref)
    async with runtime.db.transaction() as session:
        created = await ApiKeyService(session, runtime).create(
            owner, f"key-{secrets.token_hex(3)}", role, runtime.clock() + timedelta(days=30)
        )
    caller.api_key, caller.api_key_id = created.secret, created.key.id
    return caller
