"""Who is looking at a page: the tenant from the host, and the signed-in actor from the session cookie."""

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import HTMLResponse

from portal.audit import AuditAction, AuditOutcome, record_refused
from portal.auth.actor import Actor
from portal.auth.guard import request_origin
from portal.auth.service import browser_actor
from portal.errors import Forbidden
from portal.runtime import Runtime
from portal.users.models import Role
from portal.web.host import tenant_from_host
from portal.web.rendering import render
from portal.web.security import SESSION_COOKIE, csrf_token, read_form


class NoTenantHost(Exception):
    """A page asked for on a host that names no tenant (an address, the bare base domain)."""


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Form:
    fields: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, [default])[0]

    def optional(self, name: str) -> str | None:
        """The field's text, stripped; None when it is left empty."""
        value = self.get(name).strip()
        return value or None

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def checked(self, name: str) -> bool:
        return name in self.fields


@dataclass
class SignedIn:
    """A page request by a signed-in user of the host's tenant."""

    request: Request
    runtime: Runtime
    tenant_slug: str
    actor: Actor
    session_token: str
    section: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return csrf_token(self.runtime, self.session_token)

    @property
    def is_admin(self) -> bool:
        return self.can(Role.ADMIN)

    @property
    def can_file_requests(self) -> bool:
        return self.can(Role.USER)

    def can(self, role: Role) -> bool:
        return self.actor.role.rank >= role.rank

    async def form(self, role: Role) -> Form:
        """A write's form fields, once the post passed the same-origin and CSRF checks and the actor's
        role may make it (whatever the page showed; a refusal is audited as the API's are)."""
        fields = await read_form(self.request, self.session_token)
        if not self.can(role):
            await record_refused(
                self.runtime.db,
                self.actor,
                AuditAction.ACCESS_DENIED,
                outcome=AuditOutcome.DENIED,
                details={"method": "POST", "path": self.request.url.path, "requiredRole": role.value},
                clock=self.runtime.clock,
            )
            raise Forbidden(f"This needs the {role.value} role; you have {self.actor.role.value}.")
        return Form(fields)

    def render(
        self, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        return render(self.request, template, {"page": self, **context}, status_code, headers)


def tenant_host(request: Request) -> str:
    runtime: Runtime = request.app.state.runtime
    slug = tenant_from_host(request.headers.get("host"), runtime.settings.base_domain)
    if slug is None:
        raise NoTenantHost()
    return slug


TenantHost = Annotated[str, Depends(tenant_host)]


async def signed_in(request: Request, slug: TenantHost) -> SignedIn:
    runtime: Runtime = request.app.state.runtime
    token = request.cookies.get(SESSION_COOKIE)
    actor = None
    if token:
        actor = await browser_actor(runtime, slug, token, request_origin(request))
    if actor is None or token is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    page = SignedIn(request=request, runtime=runtime, tenant_slug=slug, actor=actor, session_token=token)
    request.state.page = page
    return page


Page = Annotated[SignedIn, Depends(signed_in)]


def sign_in_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")
