"""A tenant's people and machines, for its admins: users (invite, change role, disable) and API keys
(create with the secret shown once, revoke); and the page on which an invited user sets a password."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.api.path_ids import PathId
from portal.apikeys.schemas import ApiKeyIn
from portal.apikeys.service import ApiKeyService
from portal.auth.guard import request_origin
from portal.auth.schemas import ActivationIn
from portal.errors import Conflict, Forbidden, InvalidActivationToken, RateLimited, ValidationFailed
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.runtime import Runtime
from portal.users.models import Role
from portal.users.schemas import UserChange, UserIn, tenant_user_out
from portal.users.service import UserService
from portal.web.dependencies import Page, SignedIn, TenantHost
from portal.web.forms import FormRefused, parse, refused_by_service
from portal.web.pages.auth import signed_out_page
from portal.web.security import LOGIN_COOKIE, read_form

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
_USER = TypeAdapter(UserIn)
_CHANGE = TypeAdapter(UserChange)
_KEY = TypeAdapter(ApiKeyIn)
_ACTIVATION = TypeAdapter(ActivationIn)
DONE = {"saved": "The user is changed.", "revoked": "The key is revoked: it is refused from now on."}
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]
Done = Annotated[str | None, Query(max_length=20, pattern=NO_NUL_PATTERN)]
ROLES = [role.value for role in Role]


def _admins_only(page: SignedIn, what: str) -> None:
    if not page.is_admin:
        raise Forbidden(f"{what} are for admins; you have {page.actor.role.value}.")


@dataclass(frozen=True)
class _AdminList:
    """One of the admins' pages that list what the tenant has, with the form that adds one."""

    what: str
    section: str
    template: str
    # the template's name for the items
    items: str
    # a page of the tenant's items, ready for the template
    read: Callable[[SignedIn, DbSession, PageParams], Awaitable[tuple[list[Any], str | None]]]
    # what the form shows before anything is entered
    blank: Callable[[SignedIn], dict[str, str]]

    async def render(
        self,
        page: SignedIn,
        db: DbSession,
        *,
        cursor: str | None = None,
        done: str | None = None,
        problems: list[str] | None = None,
        entered: dict[str, str] | None = None,
    ) -> Response:
        """The list page; with the form's problems and what was entered when a submission is refused."""
        _admins_only(page, self.what)
        items, next_cursor = await self.read(page, db, PageParams(PER_PAGE, cursor or None))
        page.section = self.section
        context: dict[str, Any] = {
            self.items: items,
            "next_cursor": next_cursor,
            "roles": ROLES,
            "done": DONE.get(done or ""),
            "problems": problems or [],
            "entered": entered or self.blank(page),
        }
        return page.render(self.template, status_code=400 if problems else 200, **context)


# Users


async def _user_page(page: SignedIn, db: DbSession, params: PageParams) -> tuple[list[Any], str | None]:
    found = await UserService(db, page.runtime).page(page.actor.tenant_id, params)
    return [tenant_user_out(user) for user in found.items], found.next_cursor


USERS = _AdminList(
    "Users",
    "users",
    "users.html",
    "users",
    _user_page,
    lambda _page: {"email": "", "role": Role.VIEWER.value},
)


@router.get("/users")
async def users(page: Page, db: DbSession, cursor: Cursor = None, done: Done = None) -> Response:
    return await USERS.render(page, db, cursor=cursor, done=done)


@router.post("/users")
async def invite_user(page: Page, db: DbSession) -> Response:
    form = await page.form(Role.ADMIN)
    entered = {"email": form.get("email").strip(), "role": form.get("role")}
    try:
        body = parse(_USER, entered)
        try:
            invitation = await UserService(db, page.runtime).invite(page.actor, body.email, body.role)
        except (ValidationFailed, Conflict, Forbidden) as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await USERS.render(page, db, problems=refused.problems, entered=entered)
    page.section = "users"
    origin = f"{page.request.url.scheme}://{page.request.headers.get('host', '')}"
    link = f"{origin}/activate?token={invitation.token}"
    return page.render(
        "user_invited.html",
        user=tenant_user_out(invitation.user),
        link=link,
        expires_at=invitation.expires_at,
    )


@router.post("/users/{user_id}")
async def change_user(page: Page, db: DbSession, user_id: PathId) -> Response:
    form = await page.form(Role.ADMIN)
    fields: dict[str, object] = {"role": form.get("role"), "active": form.get("active") == "on"}
    try:
        body = parse(_CHANGE, fields)
        try:
            await UserService(db, page.runtime).update(page.actor, user_id, body.role, body.active)
        except (ValidationFailed, Conflict, Forbidden) as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await USERS.render(page, db, problems=refused.problems)
    return RedirectResponse("/users?done=saved", status_code=303)


# API keys


async def _key_page(page: SignedIn, db: DbSession, params: PageParams) -> tuple[list[Any], str | None]:
    found = await ApiKeyService(db, page.runtime).page(page.actor.tenant_id, params)
    return list(found.items), found.next_cursor


def _blank_key(page: SignedIn) -> dict[str, str]:
    default_expiry = (page.runtime.clock() + timedelta(days=90)).date().isoformat()
    return {"name": "", "role": Role.VIEWER.value, "expires_on": default_expiry}


API_KEYS = _AdminList("API keys", "api-keys", "api_keys.html", "keys", _key_page, _blank_key)


@router.get("/api-keys")
async def api_keys(page: Page, db: DbSession, cursor: Cursor = None, done: Done = None) -> Response:
    return await API_KEYS.render(page, db, cursor=cursor, done=done)


@router.post("/api-keys")
async def create_api_key(page: Page, db: DbSession) -> Response:
    form = await page.form(Role.ADMIN)
    entered = {
        "name": form.get("name").strip(),
        "role": form.get("role"),
        "expires_on": form.get("expires_on"),
    }
    try:
        # A date from the form's date field: the key expires at the end of that day, UTC.
        expires = f"{entered['expires_on']}T23:59:59Z" if entered["expires_on"] else ""
        body = parse(_KEY, {"name": entered["name"], "role": entered["role"], "expiresAt": expires})
        try:
            created = await ApiKeyService(db, page.runtime).create(
                page.actor, body.name, body.role, body.expires_at
            )
        except (ValidationFailed, Conflict, Forbidden) as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await API_KEYS.render(page, db, problems=refused.problems, entered=entered)
    page.section = "api-keys"
    return page.render("api_key_created.html", key=created.key, secret=created.secret)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(page: Page, db: DbSession, key_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    await ApiKeyService(db, page.runtime).revoke(page.actor, key_id)
    return RedirectResponse("/api-keys?done=revoked", status_code=303)


# Activation: an invited user, not signed in, sets a first password.


def _activation_page(
    request: Request, slug: str, token: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    context = {"tenant_slug": slug, "token": token, "error": error}
    return signed_out_page(request, "activate.html", context, status_code)


@router.get("/activate")
async def activation_form(
    request: Request,
    slug: TenantHost,
    token: Annotated[str, Query(max_length=200, pattern=NO_NUL_PATTERN)] = "",
) -> Response:
    return _activation_page(request, slug, token)


@router.post("/activate")
async def activate(request: Request, slug: TenantHost, db: DbSession) -> Response:
    runtime: Runtime = request.app.state.runtime
    fields = await read_form(request, request.cookies.get(LOGIN_COOKIE))
    token, password = fields.get("token", [""])[0], fields.get("password", [""])[0]
    if password != fields.get("password_again", [""])[0]:
        return _activation_page(request, slug, token, error="The two passwords differ.", status_code=400)
    try:
        # The same limit as the API's activation (the refresh limit): tokens cannot be guessed quickly.
        await runtime.limiter.hit(runtime.refresh_limit, "refresh", request_origin(request).ip or "unknown")
        body = parse(_ACTIVATION, {"token": token, "password": password})
        await UserService(db, runtime).activate(slug, body.token, body.password, request_origin(request))
    except FormRefused as refused:
        return _activation_page(request, slug, token, error="; ".join(refused.problems), status_code=400)
    except (RateLimited, ValidationFailed, InvalidActivationToken) as refused:
        return _activation_page(request, slug, token, error=refused.message, status_code=refused.status)
    return RedirectResponse("/login?next=/", status_code=303)
