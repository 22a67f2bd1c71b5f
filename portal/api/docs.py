"""The interactive API docs, Swagger UI at `/api/docs`, with every script, style and icon served by the
portal itself: many customers run it on networks that cannot reach a CDN.

The assets come from the `fastapi-offline` distribution (Swagger UI 5 builds, updated with its releases),
so upgrading them is a lock-file change, not files pasted into this repository. No ReDoc: its standalone
build always loads its own logo from Redocly's CDN (Redocly/redoc#2108).
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

DOCS_PATH = "/api/docs"
ASSETS_PATH = "/api/docs/assets"
ASSETS = Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, openapi_url: str) -> None:
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            # Swagger UI would otherwise send the schema's URL to its online validator for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_route(DOCS_PATH, swagger_ui, methods=["GET", "HEAD"], include_in_schema=False)
