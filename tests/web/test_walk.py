"""Each role walks the console in a real browser, as a person would, on the tenant's own host: every
page is screenshotted to test-artifacts/, none may log an error, and axe-core finds no serious or
critical accessibility violation on any of them."""

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from selenium.webdriver.common.by import By

from portal.config import Settings
from portal.users.models import Role
from tests.axe import require_axe, serious_violations
from tests.browser import Browser, serve_portal
from tests.conftest import make_settings
from tests.live_server import serve
from tests.web.conftest import DemoTenant
from tests.webhooks.conftest import LoopbackReceiver


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The server delivers webhooks itself, to a receiver on loopback.
    return make_settings(tmp_path, database_url, run_worker=True, webhook_allow_private=True)


PHONE_WIDTH = 375


class Walk:
    """One role's walk: every page it shows is screenshotted and checked by axe-core."""

    def __init__(self, browser: Browser, console: str, role: Role, axe: str) -> None:
        self.browser, self.console, self.role, self.axe = browser, console, role, axe
        self.violations: list[str] = []

    def seen(self, name: str) -> None:
        self.browser.screenshot(f"{self.role.value}-{name}")
        self.violations += serious_violations(self.browser, self.axe)
        self.fits_a_phone(name)

    def fits_a_phone(self, name: str) -> None:
        """At 375 px nothing but a table's own scroll area is wider than the screen."""
        driver = self.browser.driver
        driver.set_window_size(PHONE_WIDTH, 800)
        inner, content = driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]"
        )
        driver.set_window_size(1280, 1000)
        assert content <= inner, f"{name} is {content} px wide on a {inner} px screen"

    def find(self, css: str) -> list:  # type: ignore[type-arg]
        return self.browser.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css: str) -> None:
        self.browser.driver.find_element(By.CSS_SELECTOR, css).click()

    def click_link(self, text: str) -> None:
        self.browser.driver.find_element(By.LINK_TEXT, text).click()

    def type(self, element_id: str, text: str) -> None:
        field = self.browser.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)

    def sign_in(self, email: str, password: str) -> None:
        self.browser.open(f"{self.console}/")
        self.browser.wait_for("#email")
        self.seen("sign-in")
        self.type("email", email)
        self.type("password", password)
        self.click("form.stack button[type=submit]")
        self.browser.wait_for(".cards")
        self.seen("catalog")

    def browse_to_a_version(self, downloads: Path) -> None:
        self.click_link("nginx")
        self.browser.wait_for(".versions")
        self.seen("image")
        self.click(".versions h3 a")
        self.browser.wait_for("svg.history rect")
        self.seen("version")
        self.click_link("SPDX 2.3 (JSON)")
        document = json.loads(self.browser.wait_for_file(downloads, ".spdx.json").read_text())
        assert document["spdxVersion"] == "SPDX-2.3"
        self.click("a[data-sort=risk]")
        self.browser.wait_for("table[data-sorted=risk]")
        self.seen("version-by-risk")

    def read_only_pages(self) -> None:
        for link, page, form in (
            ("CVE watches", "watches", "#watch-form"),
            ("Requests", "requests", "#request-form"),
            ("Webhooks", "webhooks", "#webhook-form"),
        ):
            self.click_link(link)
            self.browser.wait_for("h1")
            assert self.find(form) == [], f"a viewer sees {form}"
            self.seen(page)

    def add_and_remove_a_watch(self) -> None:
        self.click_link("CVE watches")
        self.browser.wait_for("#watch-form")
        self.type("cve_id", "CVE-2024-3094")
        self.type("note", "xz backdoor")
        self.click("#watch-form button")
        self.browser.wait_for('[data-cve="CVE-2024-3094"]')
        self.seen("watches")
        self.click('[data-cve="CVE-2024-3094"] form button')
        self.browser.driver.switch_to.alert.accept()  # the confirmation portal.js asks for
        self.browser.wait_for(".notice")
        assert self.find('[data-cve="CVE-2024-3094"]') == []

    def file_a_request(self) -> None:
        self.click_link("Requests")
        self.browser.wait_for("#request-form")
        self.seen("requests")
        self.browser.driver.find_element(By.CSS_SELECTOR, "#type option[value=package]").click()
        self.type("title", "Add jq to the python image")
        self.type("description", "Our entrypoint scripts parse JSON with jq.")
        self.type("package_name", "jq")
        self.click("#request-form button")
        self.browser.wait_for("#request-status")
        assert self.find("#request-status")[0].text == "open"
        self.seen("request")

    def create_a_webhook_and_see_a_delivery(self, receiver: LoopbackReceiver) -> None:
        self.click_link("Webhooks")
        self.browser.wait_for("#webhook-form")
        self.type("new-url", receiver.url("/ok"))
        self.click('#webhook-form input[value="webhook.test"]')
        self.type("new-description", "Our CI")
        self.click("#webhook-form button[type=submit]")
        secret = self.browser.wait_for("#secret")[0].get_attribute("value")
        assert secret is not None and secret.startswith("whsec_")
        self.seen("webhook-secret")
        self.click_link("Go to the webhook")
        self.click("#send-test")
        deadline = time.monotonic() + 30
        while not self.find('.delivery[data-status="succeeded"]'):
            assert time.monotonic() < deadline, "the test delivery did not succeed in 30 s"
            time.sleep(0.3)
            self.browser.driver.refresh()
        assert any(request.headers.get("webhook-id") for request in receiver.requests)
        self.seen("webhook-deliveries")

    def admin_pages(self) -> None:
        for link, page, form in (
            ("Users", "users", "#invite-form"),
            ("API keys", "api-keys", "#key-form"),
            ("Audit log", "audit", "table.audit"),
        ):
            self.click_link(link)
            self.browser.wait_for(form)
            self.seen(page)

    def sign_out(self) -> None:
        self.click(".who button[type=submit]")
        self.browser.wait_for("#email")


# One engine is enough here: the pages' queries run on both in the HTTP tests.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_role_walks_the_console(
    settings: Settings, demo: DemoTenant, browser: Browser, tmp_path: Path, http_receiver: LoopbackReceiver
) -> None:
    axe = require_axe()
    violations: list[str] = []
    with serve_portal(settings) as base_url:
        console = f"http://acme.localhost:{urlsplit(base_url).port}"
        for role in (Role.VIEWER, Role.USER, Role.ADMIN):
            downloads = tmp_path / f"downloads-{role.value}"
            downloads.mkdir()
            browser.download_to(downloads)
            walk = Walk(browser, console, role, axe)
            walk.sign_in(*demo.credentials(role))
            walk.browse_to_a_version(downloads)
            if role == Role.VIEWER:
                walk.read_only_pages()
            if role == Role.USER:
                walk.file_a_request()
            if role == Role.ADMIN:
                walk.add_and_remove_a_watch()
                walk.create_a_webhook_and_see_a_delivery(http_receiver)
                walk.admin_pages()
            walk.sign_out()
            violations += walk.violations
    assert browser.console_errors() == []
    assert violations == []


def test_axe_reports_what_it_should(browser: Browser) -> None:
    """The check above can fail: on a page with an unlabelled field and an image without text, axe-core
    reports both as serious or critical."""
    axe = require_axe()
    page = FastAPI()

    @page.get("/")
    def bad_page() -> HTMLResponse:
        return HTMLResponse(
            '<html lang="en"><title>t</title><main><input type="text"><img src="/x.png"></main>'
        )

    with serve(page) as base_url:
        browser.open(base_url)
        found = serious_violations(browser, axe)
    assert any("label" in line for line in found) and any("image-alt" in line for line in found), found
