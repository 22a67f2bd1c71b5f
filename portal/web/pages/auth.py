"""Signing in and out of the console. Sign-in counts against the same per-IP limit as the API's login."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.auth.guard import request_origin
from portal.auth.service import AuthService, browser_actor
from portal.errors import InvalidCredentials, RateLimited
from portal.runtime import Runtime
from portal.web.dependencies import Page, TenantHost
from portal.web.rendering import render
from portal.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    csrf_token,
    forget_cookie,
    new_login_nonce,
    read_form,
    set_cookie,
)

router = APIRouter(include_in_schema=False)

NextPath = Annotated[str, Query(alias="next", max_length=2000)]


def safe_next(path: str) -> str:
    """Only a path on this host: `next` must not send a signed-in user to another site."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def signed_out_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page with a form for someone not signed in (sign-in, activation): with no session to bind its
    CSRF token to, the token is bound to a login nonce, which the page's cookie holds for an hour."""
    runtime: Runtime = request.app.state.runtime
    nonce = request.cookies.get(LOGIN_COOKIE) or new_login_nonce()
    context = {"page": None, "csrf": csrf_token(runtime, nonce), **context}
    response = render(request, template, context, status_code, headers)
    set_cookie(request, response, LOGIN_COOKIE, nonce, max_age=3600)
    return response


def _login_page(
    request: Request,
    slug: str,
    next_path: str,
    *,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {"tenant_slug": slug, "next": safe_next(next_path), "error": error, "email": email}
    return signed_out_page(request, "login.html", context, status_code, headers)


@router.get("/login")
async def login_form(request: Request, slug: TenantHost, next_path: NextPath = "/") -> Response:
    runtime: Runtime = request.app.state.runtime
    token = request.cookies.get(SESSION_COOKIE)
    if token and await browser_actor(runtime, slug, token, request_origin(request)):
        return RedirectResponse(safe_next(next_path), status_code=303)  # already signed in
    return _login_page(request, slug, next_path)


@router.post("/login")
async def sign_in(request: Request, slug: TenantHost, db: DbSession) -> Response:
    runtime: Runtime = request.app.state.runtime
    form = await read_form(request, request.cookies.get(LOGIN_COOKIE))
    email, password = form.get("email", [""])[0], form.get("password", [""])[0]
    next_path = safe_next(form.get("next", ["/"])[0])
    try:
        await runtime.limiter.hit(runtime.login_limit, "login", request_origin(request).ip or "unknown")
        signed = await AuthService(db, runtime).sign_in_browser(
            slug, email, password, request_origin(request)
        )
    except RateLimited as limited:
        return _login_page(
            request,
            slug,
            next_path,
            error=limited.message,
            email=email,
            status_code=429,
            headers=limited.headers,
        )
    except InvalidCredentials as refused:
        return _login_page(request, slug, next_path, error=refused.message, email=email, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(
        request, response, SESSION_COOKIE, signed.token, runtime.settings.browser_session_absolute_seconds
    )
    forget_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def sign_out(page: Page, db: DbSession) -> Response:
    await read_form(page.request, page.session_token)
    await AuthService(db, page.runtime).sign_out_browser(page.actor, page.session_token)
    response = RedirectResponse("/login", status_code=303)
    forget_cookie(page.request, response, SESSION_COOKIE)
    return response
