"""One error hierarchy. Every exception leaves the API as `{"error", "message", "details"?}`."""

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

DetailCode = Literal[
    "required",
    "invalid_type",
    "invalid_format",
    "too_short",
    "too_long",
    "too_small",
    "too_big",
    "invalid_enum",
    "unknown_field",
    "invalid_json",
]


class ErrorDetail(BaseModel):
    path: list[str | int]
    message: str
    code: DetailCode


class ErrorBody(BaseModel):
    error: str = Field(description="Stable, machine-friendly error code.")
    message: str = Field(description="Human-readable explanation; may change between releases.")
    details: list[ErrorDetail] | None = None


class PortalError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal error."
    # Most errors undo the unit of work; a few must keep what it did (revoking a reused refresh
    # token's family is the answer to the attack, so it has to stick although the request fails).
    keep_changes: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = [detail.model_dump() for detail in self.details]
        return body


class ValidationFailed(PortalError):
    status, code, default_message = 400, "VALIDATION_ERROR", "The request is not valid."


class TenantRequired(PortalError):
    status, code = 400, "TENANT_REQUIRED"
    default_message = "The X-Tenant header is missing or is not a valid tenant slug."


class InvalidCredentials(PortalError):
    status, code, default_message = 401, "INVALID_CREDENTIALS", "Invalid email or password."


class Unauthorized(PortalError):
    status, code, default_message = 401, "UNAUTHORIZED", "A valid bearer token is required."


class TokenExpired(PortalError):
    status, code, default_message = 401, "TOKEN_EXPIRED", "The access token has expired; refresh it."


class InvalidRefreshToken(PortalError):
    status, code = 401, "INVALID_REFRESH_TOKEN"
    default_message = "The refresh token is unknown, expired or revoked."


class InvalidActivationToken(PortalError):
    status, code, default_message = (
        401,
        "INVALID_ACTIVATION_TOKEN",
        "The activation token is unknown, expired or already used; ask your admin for a new one.",
    )


class Forbidden(PortalError):
    status, code, default_message = 403, "FORBIDDEN", "Your role may not do this."


class TenantMismatch(PortalError):
    status, code = 403, "TENANT_MISMATCH"
    default_message = "The token belongs to another tenant than X-Tenant."


class NotFound(PortalError):
    status, code, default_message = 404, "NOT_FOUND", "Not found."


class RequestTimeout(PortalError):
    status, code = 408, "REQUEST_TIMEOUT"
    default_message = "The request body did not arrive in time."


class MethodNotAllowed(PortalError):
    status, code, default_message = 405, "METHOD_NOT_ALLOWED", "Method not allowed."


class Conflict(PortalError):
    status, code, default_message = 409, "CONFLICT", "The request conflicts with existing state."


class PayloadTooLarge(PortalError):
    status, code, default_message = 413, "PAYLOAD_TOO_LARGE", "The request body is too large."


class UnsupportedMediaType(PortalError):
    status, code = 415, "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The request body must be application/json."


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{seconds} seconds (about {round(seconds / 60)} minutes)"


class HeadersTooLarge(PortalError):
    status, code = 431, "REQUEST_HEADERS_TOO_LARGE"
    default_message = "The request's headers are too large."


class RateLimited(PortalError):
    status, code, default_message = 429, "RATE_LIMITED", "Too many requests; retry later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many requests; retry in {_duration(retry_after_seconds)}.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailable(PortalError):
    status, code, default_message = 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable."


ALL_ERRORS: tuple[type[PortalError], ...] = (
    ValidationFailed,
    TenantRequired,
    InvalidCredentials,
    Unauthorized,
    TokenExpired,
    InvalidRefreshToken,
    Forbidden,
    TenantMismatch,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    HeadersTooLarge,
    RateLimited,
    PortalError,
    ServiceUnavailable,
)
