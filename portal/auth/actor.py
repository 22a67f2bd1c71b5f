"""Who is acting: a user, an API key, or the operator at the command line.

Every service that changes something receives one `Actor`. It knows the tenant it acts in, its role, and
where the call came from (`Origin`), which is what the audit log records. An `ActorRef` is the part kept
on a row (`created_by_*`) and in an audit event: enough to name the actor after it is gone.
"""

import getpass
import os
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.users.models import Role

OPERATOR_PUBLIC_NAME = "operator"


class ActorType(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    OPERATOR = "operator"
    # Someone not (yet) authenticated: a failed login, a reused refresh token.
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a call came from: the client's address and user agent, and the request id it was logged as."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class TenantRef:
    """A tenant as an actor carries it: no database row, no session."""

    id: str
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class ActorRef:
    """An actor as rows remember it. `id` is the user's or the key's (None for the operator and the
    anonymous); `email` is the user's, or for a key its creator's; `name` is the email, the key's name or
    the operator's login name."""

    type: ActorType
    id: str | None
    name: str
    email: str | None

    def as_json(self) -> dict[str, Any]:
        """The JSON the operator sees, its own staff named."""
        return {"type": self.type.value, "id": self.id, "name": self.name, "email": self.email}

    def public(self) -> dict[str, Any]:
        """The JSON a tenant sees (`createdBy`, an audit event's `actor`). The vendor's staff stay
        anonymous to customers: the operator is shown as `operator`, not by login name."""
        if self.type == ActorType.OPERATOR:
            return self.as_json() | {"name": OPERATOR_PUBLIC_NAME}
        return self.as_json()


@dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: str | None
    name: str
    role: Role
    tenant: TenantRef | None
    email: str | None = None
    # The person behind it: the user itself, or the user who created the key (None for the operator).
    user_id: str | None = None
    origin: Origin = field(default_factory=Origin)

    @property
    def acting_tenant(self) -> TenantRef:
        if self.tenant is None:
            raise RuntimeError(f"{self.type} {self.name} acts in no tenant here; use Actor.within(tenant)")
        return self.tenant

    @property
    def tenant_id(self) -> str:
        return self.acting_tenant.id

    @property
    def ref(self) -> ActorRef:
        return ActorRef(type=self.type, id=self.id, name=self.name, email=self.email)

    @property
    def is_person(self) -> bool:
        return self.type in (ActorType.USER, ActorType.OPERATOR)

    def within(self, tenant: TenantRef) -> "Actor":
        """The operator acting on one tenant's behalf (`--tenant`): what it does lands in that tenant."""
        return replace(self, tenant=tenant)

    def at(self, origin: Origin) -> "Actor":
        # Every authenticated request makes one; `dataclasses.replace` took three times as long. Each field
        # is named here (tests/auth/test_actor.py fails when one is added to Actor and not here).
        return Actor(self.type, self.id, self.name, self.role, self.tenant, self.email, self.user_id, origin)

    @classmethod
    def user(
        cls, user_id: str, email: str, role: Role, tenant: TenantRef, origin: Origin | None = None
    ) -> "Actor":
        return cls(
            type=ActorType.USER,
            id=user_id,
            name=email,
            role=role,
            tenant=tenant,
            email=email,
            user_id=user_id,
            origin=origin or Origin(),
        )

    @classmethod
    def operator(cls, login: str | None = None) -> "Actor":
        """The vendor's operator at the command line, named by who ran it."""
        return cls(
            type=ActorType.OPERATOR,
            id=None,
            name=login or operator_login(),
            role=Role.ADMIN,
            tenant=None,
            origin=Origin(user_agent="portal-cli", request_id=uuid.uuid4().hex),
        )

    @classmethod
    def anonymous(cls, tenant: TenantRef | None, origin: Origin) -> "Actor":
        return cls(
            type=ActorType.ANONYMOUS,
            id=None,
            name="anonymous",
            role=Role.VIEWER,
            tenant=tenant,
            origin=origin,
        )


def operator_login() -> str:
    """The login name of whoever runs the command; `sudo` keeps the name of the person behind it."""
    login = getpass.getuser()
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user and sudo_user != login:
        return f"{sudo_user} (sudo as {login})"
    return login


class CreatedBy:
    """Columns naming the actor that created a row; a snapshot, so it reads without joins and outlives
    the key or user it names."""

    created_by_type: Mapped[ActorType] = mapped_column(String(16))
    created_by_id: Mapped[str | None] = mapped_column(String(36))
    created_by_name: Mapped[str] = mapped_column(String(320))
    created_by_email: Mapped[str | None] = mapped_column(String(320))

    @property
    def created_by(self) -> ActorRef:
        return ActorRef(
            type=ActorType(self.created_by_type),
            id=self.created_by_id,
            name=self.created_by_name,
            email=self.created_by_email,
        )

    def set_created_by(self, actor: ActorRef) -> None:
        self.created_by_type = actor.type
        self.created_by_id = actor.id
        self.created_by_name = actor.name
        self.created_by_email = actor.email
