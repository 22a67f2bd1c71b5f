from datetime import datetime
from typing import Literal

from pydantic import Field

from portal.kit.schema import ApiInput, ApiModel
from portal.users.models import Role, User

# What `normalize_email` accepts, less surrounding blanks: a JSON schema a client can follow.
EMAIL_PATTERN = r"^[^@\s\x00]+@[^\s\x00]+$"
UserStatus = Literal["invited", "active", "disabled"]


class UserIn(ApiInput):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320, description="Stored lower case.")
    role: Role = Field(description="admin, user or viewer; never above your own.")


class UserChange(ApiInput):
    role: Role | None = Field(default=None, description="The new role; left out: unchanged.")
    active: bool | None = Field(
        default=None,
        description="false disables the user (its sessions end, its API keys stop); true enables.",
    )


class TenantUserOut(ApiModel):
    id: str
    email: str
    role: Role
    active: bool
    status: UserStatus = Field(
        description="invited: has not set a password yet; active; disabled (cannot sign in, its API keys "
        "are refused)."
    )
    created_at: datetime
    updated_at: datetime


class InvitationOut(ApiModel):
    user: TenantUserOut
    activation_token: str = Field(
        description="Hand it to the user (no e-mail is sent): POST /api/auth/activate {token, password} "
        "with X-Tenant sets their password. Single use; shown only in this answer."
    )
    activation_expires_at: datetime = Field(description="72 hours from now.")


def tenant_user_out(user: User) -> TenantUserOut:
    status: UserStatus = (
        "disabled" if not user.active else "invited" if user.password_hash is None else "active"
    )
    return TenantUserOut(
        id=user.id,
        email=user.email,
        role=Role(user.role),
        active=user.active,
        status=status,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
