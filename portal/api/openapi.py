"""Error responses in OpenAPI: each route lists the errors it can answer with, in the one body shape."""

from typing import Any

from portal.errors import ErrorBody

_DESCRIPTIONS = {
    400: "VALIDATION_ERROR or TENANT_REQUIRED",
    401: (
        "UNAUTHORIZED, TOKEN_EXPIRED, INVALID_CREDENTIALS, INVALID_REFRESH_TOKEN or INVALID_ACTIVATION_TOKEN"
    ),
    403: "FORBIDDEN or TENANT_MISMATCH",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT (the body stalled)",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED (with Retry-After in seconds)",
    431: "REQUEST_HEADERS_TOO_LARGE",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE (a store cannot be reached, or too many sign-ins at once: Retry-After)",
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the next attempt can succeed (when given).",
        "schema": {"type": "integer"},
    }
}
_HEADERS: dict[int, dict[str, Any]] = {429: _RETRY_AFTER, 503: _RETRY_AFTER}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses


def without_framework_validation_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 on every route; the portal answers validation failures with 400 (and a
    webhook receiver is not the portal)."""
    for operations in [*schema.get("paths", {}).values(), *schema.get("webhooks", {}).values()]:
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema
