from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, exists, insert, select, update

from portal.db import Base, TenantOwned
from portal.kit.tenancy import UnscopedTenantQuery, across_tenants, scoped
from portal.runtime import Runtime
from portal.tenants.models import Tenant
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


async def test_every_kind_of_statement_on_a_tenant_owned_table_must_be_scoped(runtime: Runtime) -> None:
    tenant = await make_tenant(runtime)
    other = await make_tenant(runtime)
    mine, _ = await make_user(runtime, tenant)
    theirs, _ = await make_user(runtime, other)
    users = cast(Table, User.__table__)
    unscoped: list[Any] = [
        update(User).values(active=False),
        delete(User),
        update(users).values(active=False),
        delete(users).where(users.c.id == theirs.id),
        select(users.c.email),
        select(Tenant.id).where(exists().where(User.tenant_id == Tenant.id)),
        insert(users).from_select(list(users.c.keys()), select(users)),
    ]
    async with runtime.db.sessions() as session:
        for statement in unscoped:
            with pytest.raises(UnscopedTenantQuery):
                await session.execute(statement)
        connection = await session.connection()
        for statement in unscoped:
            with pytest.raises(UnscopedTenantQuery):
                await connection.execute(statement)
        await session.rollback()

    async with runtime.db.transaction() as session:
        await session.execute(scoped(update(User), User, tenant.id).values(active=False))
        await session.execute(across_tenants(select(users.c.email)))
        connection = await session.connection()
        await connection.execute(scoped(delete(users), User, "nobody"))
        # The unit of work writes what the session holds; that is not a statement of anyone's.
        loaded = (await session.execute(scoped(select(User), User, other.id))).scalar_one()
        loaded.active = False
        await session.flush()
    async with runtime.db.sessions() as session:
        rows = (await session.execute(across_tenants(select(User.id, User.active)))).all()
    states = {user_id: active for user_id, active in rows}
    assert states == {mine.id: False, theirs.id: False}


def test_every_table_with_a_tenant_column_is_marked_tenant_owned() -> None:
    import portal.models  # noqa: F401

    for mapper in Base.registry.mappers:
        if "tenant_id" in mapper.columns and mapper.class_.__tablename__ != "tenants":
            assert issubclass(mapper.class_, TenantOwned), mapper.class_.__name__
