"""The interactive API docs work without the internet: every asset comes from the portal itself."""

import re
from pathlib import Path

import httpx

from tests import services
from tests.browser import Browser, serve_portal
from tests.conftest import make_settings

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


async def test_the_docs_page_loads_only_the_portals_own_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")

    assert response.status_code == 200
    assets = ASSET.findall(response.text)
    assert assets and all(asset.startswith("/api/docs/assets/") for asset in assets), assets
    for asset in assets:
        loaded = await client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000


def _operation_count(base_url: str) -> int:
    """The schema's operations, its webhooks (the events a receiver gets) included."""
    schema = httpx.get(f"{base_url}/api/openapi.json").json()
    items = [*schema["paths"].values(), *schema.get("webhooks", {}).values()]
    return sum(1 for operations in items for method in operations if method != "parameters")


def test_swagger_ui_renders_every_operation_with_outside_hosts_unreachable(
    browser: Browser, tmp_path: Path, sqlite_template: Path
) -> None:
    settings = make_settings(tmp_path, services.sqlite_copy(sqlite_template, tmp_path))
    with serve_portal(settings) as base_url:
        operations = _operation_count(base_url)

        browser.open(f"{base_url}/api/docs")
        rendered = browser.wait_for("#swagger-ui .opblock", at_least=operations)
        assert len(rendered) == operations
        assert "GET/api/status" in "".join(e.text.replace("\n", "") for e in rendered)

        assert browser.console_errors() == []
        outside = [
            url for url in browser.requested_urls() if not url.startswith((base_url, "data:", "about:"))
        ]
        assert outside == []
