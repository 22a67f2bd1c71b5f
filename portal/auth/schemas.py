from typing import Literal

from pydantic import Field

from portal.auth.actor import ActorRef, ActorType
from portal.kit.schema import ApiInput, ApiModel
from portal.users.models import Role


class LoginRequest(ApiInput):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class ActivationIn(ApiInput):
    token: str = Field(
        min_length=1, max_length=200, description="The activationToken your admin handed over."
    )
    password: str = Field(min_length=12, max_length=256, description="12 to 256 characters.")


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


class ActorOut(ApiModel):
    """Who did something: a user, an API key or the portal's operator."""

    type: ActorType = Field(
        description="user, api_key or operator (anonymous: someone not signed in, in audit events)."
    )
    id: str | None = Field(description="The user's or the API key's id; null for the operator.")
    name: str = Field(description="The user's email, the API key's name, or `operator`.")
    email: str | None = Field(
        description="The user's email; for an API key, the email of the user who created it; null for the "
        "operator."
    )


def actor_out(ref: ActorRef) -> ActorOut:
    return ActorOut.model_validate(ref.public())
