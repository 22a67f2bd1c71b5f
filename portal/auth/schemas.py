from typing import Literal

from pydantic import Field

from portal.kit.schema import ApiInput, ApiModel
from portal.users.models import Role


class LoginRequest(ApiInput):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(ApiInput):
    refresh_token: str = Field(min_length=1, max_length=256)


class UserOut(ApiModel):
    id: str
    email: str
    role: Role


class TenantOut(ApiModel):
    id: str
    slug: str
    name: str


class TokenResponse(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    user: UserOut
    tenant: TenantOut


class MeResponse(ApiModel):
    user: UserOut
    tenant: TenantOut
