"""Errors on pages are pages: the API's handlers decide the status and the message (one rule), and for
any path outside /api their JSON answer is drawn in the portal's layout instead."""

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.web.dependencies import NoTenantHost, SignInRequired, sign_in_url
from portal.web.rendering import render
from portal.web.security import is_page_path

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

# Headers of an API error that still mean something on a page.
_KEPT_HEADERS = ("retry-after", "allow", "connection")

TITLES = {
    400: "That request was not valid",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    408: "The request took too long",
    409: "That conflicts with what is there",
    413: "That was too large",
    415: "That form could not be read",
    429: "Too many attempts",
    431: "The request's headers were too large",
    500: "Something went wrong on our side",
    503: "The portal is briefly unavailable",
}


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "error.html",
        {
            "page": getattr(request.state, "page", None),
            "status": status,
            "title": TITLES.get(status, "Something went wrong"),
            "message": message,
        },
        status,
        headers,
    )


def _in_html(handler: Handler) -> Callable[[Request, Any], Awaitable[Response]]:
    async def handle(request: Request, exc: Any) -> Response:
        answered = handler(request, exc)
        response = await answered if inspect.isawaitable(answered) else answered
        if not is_page_path(request.url.path) or not isinstance(response.body, bytes):
            return response
        body = json.loads(response.body)
        headers = {name: value for name, value in response.headers.items() if name in _KEPT_HEADERS}
        return error_page(request, response.status_code, body.get("message", ""), headers)

    return handle


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(sign_in_url(exc.next_path), status_code=303)


async def _no_tenant(request: Request, _exc: Exception) -> Response:
    runtime = request.app.state.runtime
    return render(
        request,
        "no_tenant.html",
        {"page": None, "base_domain": runtime.settings.base_domain, "port": request.url.port},
        404,
    )


def install_page_errors(app: FastAPI) -> None:
    """After the API's handlers are installed: wraps each so that pages answer HTML."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _in_html(handler)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(NoTenantHost, _no_tenant)
