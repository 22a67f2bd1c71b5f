"""Recording and reading the audit log.

Every service that changes something calls `record_audit` with the acting `Actor`, in its own unit of
work, so the event commits (or rolls back) with the change. An attempt that is refused (a failed sign-in,
a role that may not write) leaves no change to commit with: `record_refused` writes its event in a
transaction of its own. Both refuse details that could carry a secret: no password, token, key or
signing secret ever lands in the log.
"""

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.actions import AuditAction, AuditOutcome
from portal.audit.models import AuditEvent
from portal.audit.repository import AuditRepository
from portal.audit.schemas import AuditFilter
from portal.auth.actor import Actor
from portal.db import Database
from portal.kit.clock import Clock, utcnow
from portal.kit.pagination import PageParams, Slice, each_item

DetailValue = str | int | float | bool | None | list[str]

# Names a detail may not have, and values it may not hold: what would let a reader of the log sign in.
_SECRET_NAME = re.compile(r"secret|token|password|hash|credential|cookie|authorization", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"^(ptk_|pta_|Bearer\s)|^eyJ[\w-]+\.[\w-]+\.", re.IGNORECASE)
_MAX_TEXT = 400


class SecretInAuditEvent(ValueError):
    """A bug: a caller tried to put something secret into the audit log."""


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """The object acted on: its kind (`webhook`, `user`, ...), its id and, for people, its name."""

    type: str
    id: str | None
    name: str | None = None


def record_audit(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    target: AuditTarget | None = None,
    *,
    details: Mapping[str, DetailValue] | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    tenant_id: str | None = None,
    clock: Clock = utcnow,
) -> AuditEvent:
    """Adds one event to the caller's unit of work; it commits (or not) with the change.

    The event belongs to the actor's tenant, or to `tenant_id` when the operator acts on a tenant from
    outside it (granting an image); an operator's vendor-wide action belongs to none.
    """
    event = _event(actor, action, target, details, outcome, tenant_id, clock)
    session.add(event)
    return event


async def record_refused(
    db: Database,
    actor: Actor,
    action: AuditAction,
    target: AuditTarget | None = None,
    *,
    details: Mapping[str, DetailValue] | None = None,
    outcome: AuditOutcome = AuditOutcome.FAILURE,
    tenant_id: str | None = None,
    clock: Clock = utcnow,
) -> None:
    """Records a refused attempt in a transaction of its own: the request's is rolled back.

    Call it before the request's session has written anything: on SQLite a second writer would wait
    for the first, which is this same request.
    """
    async with db.transaction() as session:
        session.add(_event(actor, action, target, details, outcome, tenant_id, clock))


def _event(
    actor: Actor,
    action: AuditAction,
    target: AuditTarget | None,
    details: Mapping[str, DetailValue] | None,
    outcome: AuditOutcome,
    tenant_id: str | None,
    clock: Clock,
) -> AuditEvent:
    origin = actor.origin
    return AuditEvent(
        tenant_id=tenant_id or (actor.tenant.id if actor.tenant is not None else None),
        occurred_at=clock(),
        action=action.value,
        outcome=outcome.value,
        actor_type=actor.type.value,
        actor_id=actor.id,
        actor_name=actor.name[:320],
        actor_email=actor.email,
        target_type=target.type if target else None,
        target_id=target.id if target else None,
        target_name=_text(target.name) if target else None,
        client_ip=origin.ip,
        user_agent=_text(origin.user_agent),
        request_id=origin.request_id[:64] if origin.request_id else None,
        details=_checked(dict(details or {})),
    )


def _text(value: str | None) -> str | None:
    return value[:_MAX_TEXT] if value is not None else None


def _checked(details: dict[str, DetailValue]) -> dict[str, Any]:
    for name, value in details.items():
        if _SECRET_NAME.search(name):
            raise SecretInAuditEvent(f"audit detail {name!r} names a secret; leave it out")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and _SECRET_VALUE.search(item):
                raise SecretInAuditEvent(f"audit detail {name!r} holds a credential; leave it out")
    return {name: _text(value) if isinstance(value, str) else value for name, value in details.items()}


class AuditService:
    """Reading the log (a tenant's, or the operator's whole log) and the retention job's deletion."""

    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = AuditRepository(session)

    async def page(self, tenant_id: str | None, found: AuditFilter, page: PageParams) -> Slice[AuditEvent]:
        """Newest first. `tenant_id` None: every event, the vendor-wide ones included (the operator)."""
        return await self.repository.page(tenant_id, found, page)

    async def prune(self, before: datetime) -> int:
        return await self.repository.delete_before(before)


async def stream_events(db: Database, tenant_id: str | None, found: AuditFilter) -> AsyncIterator[AuditEvent]:
    """Every matching event, newest first, read page by page, each page in a short session of its own,
    so an export of millions of events holds neither a transaction nor their memory."""

    async def fetch(page: PageParams) -> Slice[AuditEvent]:
        async with db.sessions() as session:
            return await AuditService(session).page(tenant_id, found, page)

    async for event in each_item(fetch):
        yield event
