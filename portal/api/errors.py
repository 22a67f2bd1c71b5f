"""Turns every exception, the framework's own included, into the one error shape."""

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.errors import (
    DetailCode,
    ErrorDetail,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PortalError,
    RequestTimeout,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from portal.kit.schema import DISCRIMINATOR
from portal.logs import get_logger

log = get_logger("portal.api")

_CODE_BY_PYDANTIC_TYPE: dict[str, DetailCode] = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "json_invalid": "invalid_json",
    "json_type": "invalid_json",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "greater_than": "too_small",
    "greater_than_equal": "too_small",
    "less_than": "too_big",
    "less_than_equal": "too_big",
    "enum": "invalid_enum",
    "literal_error": "invalid_enum",
}


def _detail_code(error_type: str) -> DetailCode:
    if error_type in _CODE_BY_PYDANTIC_TYPE:
        return _CODE_BY_PYDANTIC_TYPE[error_type]
    if error_type.endswith("_type") or error_type in {"int_parsing", "float_parsing", "bool_parsing"}:
        return "invalid_type"
    return "invalid_format"


# A body described as a union discriminated by `type`: a missing or unknown type is that field's error.
_UNION_TAG_ERRORS: dict[str, DetailCode] = {
    "union_tag_not_found": "required",
    "union_tag_invalid": "invalid_enum",
}


def _detail_path(location: Sequence[Any], body: Any) -> list[str | int]:
    location = list(location)
    if location and location[0] == "body":
        location = location[1:]
        if location and isinstance(location[0], int) and len(location) == 1:
            location = []  # a JSON syntax error reports its character offset, not a field
        if location and isinstance(body, dict) and location[0] == body.get(DISCRIMINATOR):
            location = location[1:]  # pydantic names the union member; the client knows it as `type`
    return [part if isinstance(part, int) else str(part) for part in location]


def validation_details(errors: Sequence[Any], body: Any = None) -> list[ErrorDetail]:
    details = []
    for error in errors:
        if error["type"] in _UNION_TAG_ERRORS:
            path = [*_detail_path(error["loc"], body), DISCRIMINATOR]
            details.append(
                ErrorDetail(path=path, message=error["msg"], code=_UNION_TAG_ERRORS[error["type"]])
            )
            continue
        path = _detail_path(error["loc"], body)
        details.append(ErrorDetail(path=path, message=error["msg"], code=_detail_code(error["type"])))
    return details


def error_response(exc: PortalError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _portal_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PortalError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(error["loc"][0] == "path" for error in exc.errors()):
        # A path whose id is not one the API writes names nothing, like an id that does not exist.
        return error_response(NotFound())
    details = validation_details(exc.errors(), exc.body)
    message = (
        "The request body is not valid JSON."
        if any(d.code == "invalid_json" for d in details)
        else "The request is not valid."
    )
    return error_response(ValidationFailed(message, details=details))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: PortalError
    if request.scope.get("portal.body_too_large"):
        error = PayloadTooLarge()
    elif request.scope.get("portal.body_timed_out"):
        error = RequestTimeout(headers={"Connection": "close"})
    elif exc.status_code == 404:
        error = NotFound()
    elif exc.status_code == 405:
        error = MethodNotAllowed(headers={"Allow": ", ".join(allowed_methods(request))})
    elif exc.status_code == 413:
        error = PayloadTooLarge()
    elif exc.status_code == 415:
        error = UnsupportedMediaType()
    elif 400 <= exc.status_code < 500:
        error = ValidationFailed(str(exc.detail))
    else:
        error = PortalError()
    return error_response(error)


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document gives this path (and HEAD with GET). The router names only
    the first route that matches the path, so `GET /x` and `POST /x` declared apart answered `Allow: GET`."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", template), request.url.path):
            methods |= {method.upper() for method in operations if method != "parameters"}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", error=type(exc).__name__)
    return error_response(ServiceUnavailable("The database cannot be reached; try again shortly."))


# SQLSTATE classes of a server that is not there for now: 08 connection exception, 57 operator
# intervention (shutting down, starting up, a backend terminated by the administrator).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57")


def _sqlstate(exc: DBAPIError) -> str:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """asyncpg reports a server shutting down or starting up as a plain database error, not as an
    operational one: tell those apart from the errors that are bugs."""
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated or _sqlstate(exc).startswith(_UNAVAILABLE_SQLSTATE_CLASSES):
        return await _database_unavailable(request, exc)
    return await _unhandled(request, exc)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_exception", path=request.url.path)
    return error_response(PortalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PortalError, _portal_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)
