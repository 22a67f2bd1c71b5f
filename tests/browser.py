"""A real headless Chromium for tests of pages: Debian's `chromium` and `chromium-driver`, driven by Selenium.

- `browser` (fixture): a `Browser` on one Chromium started per session with a fresh profile, cookies
  cleared after each test. Every host but this machine is unreachable from it: names do not resolve, and
  any other address goes to a proxy that refuses, so a page that needs the internet fails here as it would
  on an air-gapped network. `console_errors()` and `requested_urls()` say what went wrong and what the page
  fetched.
- `serve_portal(settings)`: the portal's app on a real uvicorn server on a loopback port, for the browser.
- `Browser.screenshot(name)` writes a PNG of the page to `test-artifacts/` (git-ignored), for people to
  look at; `Browser.download_to(folder)` makes downloads land in a folder.

Where chromium or chromedriver is missing the tests skip with the reason (`apt-get install chromium
chromium-driver`; `.ci/run` does); under CI=true they fail instead.
"""

import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from portal.app import create_app
from portal.config import Settings
from portal.runtime import Runtime
from tests.live_server import serve

WAIT_SECONDS = 30
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _closed_port() -> int:
    """A loopback port nothing listens on: the proxy every outside request is sent to, and refused by."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def chromium_flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        # No name but localhost (and its subdomains: the console's tenants) resolves; loopback bypasses
        # the proxy, everything else is refused there.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE *.localhost , EXCLUDE 127.0.0.1",
        f"--proxy-server=http://127.0.0.1:{_closed_port()}",
    ]


class Browser:
    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self._console: list[dict[str, Any]] = []
        self._network: list[dict[str, Any]] = []

    def open(self, url: str) -> None:
        self.driver.get(url)

    def wait_for(self, css: str, at_least: int = 1, timeout: float = WAIT_SECONDS) -> list[WebElement]:
        """The elements matching `css` once there are `at_least` of them (a TimeoutException otherwise)."""

        def found(driver: webdriver.Chrome) -> list[WebElement] | bool:
            elements = driver.find_elements("css selector", css)
            return elements if len(elements) >= at_least else False

        elements: list[WebElement] = WebDriverWait(self.driver, timeout).until(found)
        return elements

    def screenshot(self, name: str, width: int = 1280) -> Path:
        """The whole page (its full height) at `width` pixels, as test-artifacts/<name>.png."""
        ARTIFACTS.mkdir(exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, max(int(height) + 120, 600))
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def download_to(self, folder: Path) -> None:
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
        )

    def wait_for_file(self, folder: Path, suffix: str, timeout: float = WAIT_SECONDS) -> Path:
        """The file whose name ends with `suffix` once it is fully downloaded into `folder`."""

        def arrived(_driver: webdriver.Chrome) -> Path | bool:
            done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
            return done[0] if done else False

        try:
            found: Path = WebDriverWait(self.driver, timeout).until(arrived)
        except TimeoutException:
            raise AssertionError(f"no *{suffix} arrived in {folder}: {sorted(folder.iterdir())}") from None
        return found

    def console_errors(self) -> list[str]:
        """Every error the page logged, a failed load included, since the test began."""
        self._drain()
        return [entry["message"] for entry in self._console if entry["level"] == "SEVERE"]

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for (documents, scripts, styles, images, fetches), in order."""
        self._drain()
        return [
            event["params"]["request"]["url"]
            for event in self._network
            if event["method"] == "Network.requestWillBeSent"
        ]

    def _drain(self) -> None:
        self._console += self.driver.get_log("browser")
        self._network += [
            json.loads(entry["message"])["message"] for entry in self.driver.get_log("performance")
        ]

    def reset(self) -> None:
        self.driver.get("about:blank")
        self.driver.set_window_size(1280, 1000)
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        self._console, self._network = [], []


def _unavailable(reason: str) -> None:
    message = (
        f"{reason}; install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        _unavailable(f"no {'chromium' if binary is None else 'chromedriver'} on the PATH")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for flag in chromium_flags(tmp_path_factory.mktemp("chromium-profile")):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The driver's path is given, so Selenium Manager (which would download one) never runs.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: webdriver.Chrome) -> Iterator[Browser]:
    page = Browser(chromium)
    page.reset()
    try:
        yield page
    finally:
        page.reset()


@contextmanager
def serve_portal(settings: Settings) -> Iterator[str]:
    """The portal on a real server, with a runtime of its own (its loop opens its own connections)."""
    runtime = Runtime.build(settings, rate_limit_namespace=f"test-{uuid.uuid4().hex}")
    with serve(create_app(runtime=runtime)) as base_url:
        yield base_url
