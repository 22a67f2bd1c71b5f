"""The console's counts of a scan are the API's `summary`, read in a real browser: open counts after VEX,
with what VEX takes out counted apart, on the image page and on the version page alike."""

from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By

from portal.config import Settings
from portal.users.models import Role
from tests.browser import Browser, serve_portal
from tests.web.conftest import DemoTenant

_FIELDS = ("critical", "high", "medium", "low", "unknown", "kev", "suppressed")


def _shown(browser: Browser, scope: str) -> dict[str, int]:
    """The counts a person reads in `scope` (zero where the page shows none)."""
    counts = dict.fromkeys(_FIELDS, 0)
    for element in browser.driver.find_elements(By.CSS_SELECTOR, f"{scope} .counts [data-count]"):
        classes = (element.get_attribute("class") or "").split()
        field = next(c.removeprefix("sev-") for c in classes if c.removeprefix("sev-") in _FIELDS)
        counts[field] = int(element.get_attribute("data-count") or "")
    return counts


def _api_summary(base_url: str, email: str, password: str, image_path: str) -> dict[str, int]:
    with httpx.Client(base_url=base_url, headers={"X-Tenant": "acme"}) as api:
        login = api.post("/api/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
        detail = api.get(f"/api/docker-images/{image_path.rsplit('/', 1)[1]}", headers=headers).json()
    latest: dict[str, int] = detail["versions"][0]["latestScan"]
    return {field: latest[field] for field in _FIELDS}


# One engine is enough here: the summaries' queries run on both in the HTTP tests.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_suppressed_finding_leaves_the_consoles_counts_as_it_leaves_the_apis(
    settings: Settings, demo: DemoTenant, browser: Browser
) -> None:
    email, password = demo.credentials(Role.ADMIN)
    with serve_portal(settings) as base_url:
        console = f"http://acme.localhost:{urlsplit(base_url).port}"
        browser.open(f"{console}/")
        browser.wait_for("#email")[0].send_keys(email)
        browser.driver.find_element(By.ID, "password").send_keys(password)
        browser.driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        browser.wait_for(".cards")
        browser.driver.find_element(By.LINK_TEXT, "nginx").click()
        browser.wait_for(".versions")
        image_path = urlsplit(browser.driver.current_url).path
        before = _shown(browser, ".versions li:first-child")
        assert before == _api_summary(base_url, email, password, image_path)

        browser.driver.find_element(By.CSS_SELECTOR, ".versions li:first-child h3 a").click()
        browser.wait_for("#latest-counts")
        version_url = browser.driver.current_url
        assert _shown(browser, "#latest-counts") == before
        browser.driver.find_element(By.CSS_SELECTOR, "table.findings tbody tr td.mono a").click()
        browser.wait_for("#analysis-form")
        browser.driver.find_element(By.CSS_SELECTOR, "#state option[value=not_affected]").click()
        browser.driver.find_element(
            By.CSS_SELECTOR, "#justification option[value=code_not_reachable]"
        ).click()
        browser.driver.find_element(By.ID, "detail").send_keys("Never reached in our deployment.")
        browser.driver.find_element(By.CSS_SELECTOR, "#analysis-form button[type=submit]").click()
        browser.wait_for("#analysis-history")

        browser.open(f"{console}{image_path}")
        browser.wait_for(".versions")
        after = _shown(browser, ".versions li:first-child")
        browser.screenshot("counts-after-an-analysis")
        taken = after["suppressed"] - before["suppressed"]
        assert taken >= 1
        severities = ("critical", "high", "medium", "low", "unknown")
        assert sum(before[s] for s in severities) - sum(after[s] for s in severities) == taken
        assert after == _api_summary(base_url, email, password, image_path)
        browser.open(version_url)
        browser.wait_for("#latest-counts")
        assert _shown(browser, "#latest-counts") == after
        history = browser.driver.find_elements(By.CSS_SELECTOR, "details table tbody tr:first-child td")
        assert int(history[-1].get_attribute("textContent") or "") == after["suppressed"]
    assert browser.console_errors() == []
