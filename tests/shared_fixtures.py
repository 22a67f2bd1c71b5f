"""Where the shared, real-world test data lives.

The folder sits beside the repository (`../shared/fixtures`) or wherever `PORTAL_TEST_FIXTURES` points.
On a user's own clone it may be absent: tests that need it skip with the reason. Under CI it must be there.
"""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    configured = os.environ.get("PORTAL_TEST_FIXTURES")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures"
    if not path.is_dir():
        reason = f"shared test fixtures not found at {path} (set PORTAL_TEST_FIXTURES)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path
