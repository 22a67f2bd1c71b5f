"""Tenant scoping in one place.

Every query on a tenant-owned table goes through `scoped`, which adds the tenant filter and marks the
statement. A session event refuses any ORM query that touches a tenant-owned table without that mark,
unless it says explicitly that it spans tenants (`across_tenants`, for the operator's command line).
"""

from typing import Any, TypeVar

from sqlalchemy import Select, event
from sqlalchemy.orm import ORMExecuteState, Session

from portal.db import TenantOwned

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])

_SCOPED = "portal_tenant_scoped"


class UnscopedTenantQuery(RuntimeError):
    pass


def scoped(statement: SelectT, model: type[TenantOwned], tenant_id: str) -> SelectT:
    return statement.where(model.tenant_id == tenant_id).execution_options(**{_SCOPED: True})


def across_tenants(statement: SelectT) -> SelectT:
    """Marks an operator query that deliberately reads several tenants' rows."""
    return statement.execution_options(**{_SCOPED: True})


@event.listens_for(Session, "do_orm_execute")
def _refuse_unscoped(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get(_SCOPED):
        return
    if state.is_relationship_load or state.is_column_load:
        return
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, TenantOwned):
            raise UnscopedTenantQuery(
                f"query on tenant-owned {mapper.class_.__name__} without kit.tenancy.scoped"
            )
