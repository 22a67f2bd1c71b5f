from dataclasses import dataclass

import pytest

from portal.demo.seed import DemoReport, run_demo
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from portal.tenants.repository import TenantRepository
from portal.users.models import Role
from tests.factories import OPERATOR
from tests.webhooks.conftest import http_receiver  # noqa: F401  (a real receiver for the console's webhooks)


@dataclass
class DemoTenant:
    """The demo's `acme`: four images with scans, advisories and CVE watches, and a user per role."""

    tenant: Tenant
    report: DemoReport

    def credentials(self, role: Role) -> tuple[str, str]:
        return next(
            (email, password)
            for email, (user_role, password) in self.report.credentials.users.items()
            if user_role == role
        )


@pytest.fixture
async def demo(runtime: Runtime) -> DemoTenant:
    return await seed_demo_tenant(runtime)


async def seed_demo_tenant(runtime: Runtime) -> DemoTenant:
    report = await run_demo(runtime, OPERATOR)
    async with runtime.db.transaction() as session:
        tenant = await TenantRepository(session).by_slug(report.credentials.tenant)
    assert tenant is not None
    return DemoTenant(tenant, report)
