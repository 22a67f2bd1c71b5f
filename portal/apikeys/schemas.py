from datetime import datetime

from pydantic import Field

from portal.apikeys.models import ApiKey
from portal.auth.schemas import ActorOut, actor_out
from portal.kit.schema import ApiInput, ApiModel, Rfc3339Input
from portal.users.models import Role


class ApiKeyIn(ApiInput):
    name: str = Field(min_length=1, max_length=100, description="What the key is for, e.g. `ci-release`.")
    role: Role = Field(description="admin, user or viewer; never above your own role.")
    expires_at: Rfc3339Input = Field(description="Required; in the future and at most one year ahead.")


class ApiKeyOut(ApiModel):
    id: str
    name: str
    prefix: str = Field(description="The secret's first characters, to tell keys apart; not usable.")
    role: Role
    created_by: ActorOut
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="To the minute.")
    last_used_ip: str | None


class CreatedApiKeyOut(ApiKeyOut):
    key: str = Field(
        description="The secret: `ptk_` and 43 more characters. Shown only in this answer; send it as "
        "`Authorization: Bearer <key>` with `X-Tenant`."
    )


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        created_by=actor_out(key.created_by),
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        last_used_ip=key.last_used_ip,
    )
