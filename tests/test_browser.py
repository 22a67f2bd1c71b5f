"""The browser the page tests use cannot reach anything but this machine (tests/browser.py)."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tests.browser import Browser
from tests.live_server import serve

OUTSIDE = ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css", "http://192.0.2.10/script.js"]


def test_outside_hosts_by_name_or_address_are_unreachable(browser: Browser) -> None:
    page = FastAPI()

    @page.get("/")
    def index() -> HTMLResponse:
        return HTMLResponse(
            f'<link rel="stylesheet" href="{OUTSIDE[0]}"><script src="{OUTSIDE[1]}"></script>'
            "<p id='loaded'>local</p>"
        )

    with serve(page) as base_url:
        browser.open(base_url)
        browser.wait_for("#loaded")

    errors = browser.console_errors()
    for url in OUTSIDE:
        assert any(url in error and "net::ERR_" in error for error in errors), errors
    assert browser.requested_urls()[0] == f"{base_url}/"
