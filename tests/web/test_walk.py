"""Each role walks the console in a real browser, as a person would, on the tenant's own host; every
page is screenshotted to test-artifacts/ and none may log an error."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.config import Settings
from portal.users.models import Role
from tests.browser import Browser, serve_portal
from tests.conftest import make_settings
from tests.web.conftest import DemoTenant

# One engine is enough here: the pages' queries run on both in the HTTP tests.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The server delivers webhooks itself, to a receiver on loopback.
    return make_settings(tmp_path, database_url, run_worker=True, webhook_allow_private=True)


def sign_in(browser: Browser, console: str, email: str, password: str) -> None:
    browser.open(f"{console}/")
    browser.wait_for("#email")[0].send_keys(email)
    browser.driver.find_element("id", "password").send_keys(password)
    browser.driver.find_element("css selector", "form.stack button[type=submit]").click()
    browser.wait_for(".cards")


def sign_out(browser: Browser) -> None:
    browser.driver.find_element("css selector", ".who button[type=submit]").click()
    browser.wait_for("#email")


def browse_to_a_version(browser: Browser, role: str, downloads: Path) -> None:
    browser.screenshot(f"{role}-catalog")
    browser.driver.find_element("link text", "nginx").click()
    browser.wait_for(".versions")
    browser.screenshot(f"{role}-image")
    browser.driver.find_element("css selector", ".versions h3 a").click()
    browser.wait_for("svg.history rect")
    browser.screenshot(f"{role}-version")

    browser.driver.find_element("partial link text", "SPDX 2.3").click()
    document = json.loads(browser.wait_for_file(downloads, ".spdx.json").read_text())
    assert document["spdxVersion"] == "SPDX-2.3"

    browser.driver.find_element("css selector", "a[data-sort=risk]").click()
    browser.wait_for("table[data-sorted=risk]")
    browser.screenshot(f"{role}-version-by-risk")


async def test_every_role_walks_the_console(
    settings: Settings, demo: DemoTenant, browser: Browser, tmp_path: Path
) -> None:
    with serve_portal(settings) as base_url:
        console = f"http://acme.localhost:{urlsplit(base_url).port}"
        for role in (Role.VIEWER, Role.USER, Role.ADMIN):
            downloads = tmp_path / f"downloads-{role.value}"
            downloads.mkdir()
            browser.download_to(downloads)
            email, password = demo.credentials(role)
            sign_in(browser, console, email, password)
            browse_to_a_version(browser, role.value, downloads)
            sign_out(browser)
            browser.screenshot(f"{role.value}-signed-out")
    assert browser.console_errors() == []
