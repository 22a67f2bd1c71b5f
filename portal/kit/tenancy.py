"""Tenant scoping in one place.

Every statement on a tenant-owned table goes through `scoped`, which adds the tenant filter and marks
the statement, or says explicitly that it spans tenants (`across_tenants`, for the operator's command
line and the workers). Two hooks refuse anything else, whatever its kind:

- the session's: every statement a session executes, ORM or Core, SELECT, UPDATE or DELETE;
- the engine's: every statement that reaches a connection without passing the first, such as
  `(await session.connection()).execute(...)`.

Exempt are what cannot read or change another tenant's rows by construction: the unit of work's own
flush (it writes the objects the session loaded, through scoped queries, or created), plain INSERTs
(they carry their tenant_id), relationship and column loads of loaded objects, DDL, and textual SQL,
which is not analysed (the migrations use it; features do not).
"""

from typing import Any, TypeVar, cast

from sqlalchemy import Delete, Insert, Select, Table, Update, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import visitors

from portal.db import Base, TenantOwned, flushing

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
StatementT = TypeVar("StatementT", bound=Select[*tuple[Any, ...]] | Update | Delete)

_SCOPED = "portal_tenant_scoped"
_CHECKED = "portal_tenancy_checked"


class UnscopedTenantQuery(RuntimeError):
    pass


def scoped(statement: StatementT, model: type[TenantOwned], tenant_id: str) -> StatementT:
    filtered = statement.where(model.tenant_id == tenant_id).execution_options(**{_SCOPED: True})
    return cast(StatementT, filtered)


def across_tenants(statement: StatementT) -> StatementT:
    """Marks an operator's or a worker's statement that deliberately spans several tenants' rows."""
    return cast(StatementT, statement.execution_options(**{_SCOPED: True}))


def migrating(connection: Connection) -> None:
    """Marks a connection that changes the schema: its statements move every tenant's rows at once."""
    connection.execution_options(**{_SCOPED: True})


def _tenant_tables() -> frozenset[str]:
    return frozenset(
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantOwned) and isinstance(mapper.local_table, Table)
    )


def _refuse_if_unscoped(statement: object, options: Any) -> None:
    if options.get(_SCOPED) or getattr(statement, "_execution_options", {}).get(_SCOPED):
        return
    if isinstance(statement, Insert):
        if statement.select is None:
            return  # its rows carry their tenant_id
        statement = statement.select
    if not isinstance(statement, Select | Update | Delete):
        return  # DDL, textual SQL
    tenant_tables = _tenant_tables()
    for element in visitors.iterate(statement):
        if isinstance(element, Table) and element.name in tenant_tables:
            kind = type(statement).__name__.removeprefix("Annotated").upper()
            raise UnscopedTenantQuery(
                f"{kind} on tenant-owned table {element.name} without kit.tenancy.scoped or across_tenants"
            )


@event.listens_for(Session, "do_orm_execute")
def _refuse_unscoped_in_session(state: ORMExecuteState) -> None:
    if not (state.is_relationship_load or state.is_column_load):
        _refuse_if_unscoped(state.statement, state.execution_options)
    state.update_execution_options(**{_CHECKED: True})


@event.listens_for(Engine, "before_execute")
def _refuse_unscoped_on_connection(
    _connection: Connection,
    statement: object,
    _multiparams: Any,
    _params: Any,
    options: Any,
) -> None:
    if options.get(_CHECKED) or flushing.get():
        return
    _refuse_if_unscoped(statement, options)
