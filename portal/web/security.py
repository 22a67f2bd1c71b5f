"""What keeps the console's pages safe to open in a browser: response headers (a CSP without inline
script, no framing), the session cookie's attributes, and the checks every form post passes (same
origin, and a CSRF token bound to the session)."""

import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.auth.ratelimit import is_trusted_proxy
from portal.errors import Forbidden, UnsupportedMediaType
from portal.runtime import Runtime

SESSION_COOKIE = "portal_session"
# Before sign-in there is no session to bind the login form's token to: this cookie stands in.
LOGIN_COOKIE = "portal_login"
CSRF_FIELD = "csrf"
MAX_FORM_FIELDS = 200

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
_PAGE_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def is_page_path(path: str) -> bool:
    """Everything but the JSON API (and its docs) and the metrics scrape (`/metrics`, whose refusals a
    scraper reads) is the console's."""
    return not (path == "/api" or path.startswith("/api/") or path == "/metrics")


class PageHeaders:
    """Adds the pages' security headers; pages (not their static assets) are never cached, since they
    show one tenant's data to one user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _PAGE_HEADERS
                if not static and not any(name == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def over_https(request: Request) -> bool:
    """The request reached us over https, directly or through a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    runtime: Runtime = request.app.state.runtime
    peer = request.client.host if request.client else None
    if peer is None or not is_trusted_proxy(peer, runtime.trusted_proxies):
        return False
    return request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=over_https(request),
    )


def forget_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=over_https(request))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(runtime: Runtime, bound_to: str) -> str:
    """The token a form carries: a MAC of the session cookie (or the login nonce), so a page of another
    site, which cannot read either, cannot forge it."""
    key = runtime.settings.effective_secret_key.encode()
    return hmac.new(key, b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()


def is_cross_site(request: Request) -> bool:
    """A post some other site made the browser send. Browsers say so in `Sec-Fetch-Site`; older ones
    only send `Origin`, which must then name this host."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


async def read_form(request: Request, bound_to: str | None) -> dict[str, list[str]]:
    """The fields of a form post, once it has passed the same-origin and CSRF checks."""
    if is_cross_site(request):
        raise Forbidden("This form was sent from another site; it was refused.")
    body = (await request.body()).decode("utf-8", errors="replace")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("A form must be sent as application/x-www-form-urlencoded.")
    fields = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    runtime: Runtime = request.app.state.runtime
    sent = fields.get(CSRF_FIELD, [""])[0]
    if bound_to is None or not hmac.compare_digest(sent, csrf_token(runtime, bound_to)):
        raise Forbidden("The form has expired or was not sent from this site; reload the page and retry.")
    return fields
