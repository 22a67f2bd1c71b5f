import pytest
from sqlalchemy import select

from portal.db import Base, TenantOwned
from portal.kit.tenancy import UnscopedTenantQuery, across_tenants, scoped
from portal.runtime import Runtime
from portal.users.models import User
from tests.factories import make_tenant, make_user


async def test_a_query_on_a_tenant_owned_table_must_be_scoped(runtime: Runtime) -> None:
    tenant = await make_tenant(runtime)
    await make_user(runtime, tenant)
    async with runtime.db.sessions() as session:
        with pytest.raises(UnscopedTenantQuery):
            await session.execute(select(User))
        assert len((await session.execute(scoped(select(User), User, tenant.id))).scalars().all()) == 1
        assert len((await session.execute(scoped(select(User), User, "another-tenant"))).scalars().all()) == 0
        assert len((await session.execute(across_tenants(select(User)))).scalars().all()) == 1


def test_every_table_with_a_tenant_column_is_marked_tenant_owned() -> None:
    import portal.models  # noqa: F401

    for mapper in Base.registry.mappers:
        if "tenant_id" in mapper.columns and mapper.class_.__tablename__ != "tenants":
            assert issubclass(mapper.class_, TenantOwned), mapper.class_.__name__
