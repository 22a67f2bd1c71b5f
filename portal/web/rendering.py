"""One Jinja2 environment for every page: templates from the package, autoescaping always on, and a
missing variable an error rather than an empty string."""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import __version__

_environment = Environment(
    loader=PackageLoader("portal.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "—"


def _short_digest(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _query_string(query: dict[str, Any], **changes: Any) -> str:
    """`?...` of a page's current query with some parameters changed (a sort link keeps the filters)."""
    merged = {**query, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None, [])}, doseq=True)


_environment.filters["when"] = _when
_environment.globals["query_string"] = _query_string
_environment.filters["short_digest"] = _short_digest
_environment.globals["portal_version"] = __version__


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    html = _environment.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code, headers=headers)
