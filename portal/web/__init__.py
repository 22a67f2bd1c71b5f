"""The tenant's web console: server-rendered pages over the same services as the API and the CLI.

`install_web(app)` adds the pages, their static assets, their security headers and HTML error pages
(the JSON API keeps its own). The tenant is the host's first label under `PORTAL_BASE_DOMAIN`; a
server-side session (cookie `portal_session`) says who is signed in.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portal.api.routing import add_routes
from portal.web.errors import install_page_errors
from portal.web.pages.access import router as access_pages
from portal.web.pages.audit import router as audit_pages
from portal.web.pages.auth import router as auth_pages
from portal.web.pages.catalog import router as catalog_pages
from portal.web.pages.requests import router as request_pages
from portal.web.pages.vex import router as vex_pages
from portal.web.pages.watches import router as watch_pages
from portal.web.pages.webhooks import router as webhook_pages
from portal.web.security import PageHeaders

STATIC_DIR = Path(__file__).parent / "static"
PAGE_ROUTERS = (
    auth_pages,
    catalog_pages,
    vex_pages,
    watch_pages,
    request_pages,
    webhook_pages,
    audit_pages,
    access_pages,
)


def install_web(app: FastAPI) -> None:
    for router in PAGE_ROUTERS:
        add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_page_errors(app)
    app.add_middleware(PageHeaders)


__all__ = ["install_web"]
