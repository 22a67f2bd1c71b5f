"""axe-core, from the npm registry, injected into a page to find accessibility violations.

A developer installs the pinned version once (the folder's package.json and package-lock.json say which):

    npm ci --prefix tests/browser-assets

`.ci/run` does the same. Where it is missing the tests that need it skip with that command as the reason;
under CI=true they fail instead.
"""

import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser import Browser

AXE_SCRIPT = Path(__file__).resolve().parent / "browser-assets" / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; moderate and minor ones are reported by axe but not held against it.
FAILING_IMPACTS = {"serious", "critical"}


def require_axe() -> str:
    if not AXE_SCRIPT.exists():
        reason = (
            f"axe-core is not installed ({AXE_SCRIPT} is missing); run: npm ci --prefix tests/browser-assets"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE_SCRIPT.read_text()


def serious_violations(browser: Browser, axe_source: str) -> list[str]:
    """One line per serious or critical violation on the page now shown: the rule and where."""
    driver = browser.driver
    # Evaluated by the driver, not as a <script> element, so the page's CSP (no inline script) holds.
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(axe_source)
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(done, (e) => done({error: String(e)}));"
    )
    if "error" in result:
        raise AssertionError(f"axe-core failed on {driver.current_url}: {result['error']}")
    return [
        f"{driver.current_url}: {violation['id']} ({violation['impact']}): "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in violation["nodes"][:5]
        )
        for violation in result["violations"]
        if violation["impact"] in FAILING_IMPACTS
    ]
