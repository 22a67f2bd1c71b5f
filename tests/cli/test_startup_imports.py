"""A simple command imports what it needs and nothing of the API: FastAPI, JWT, argon2 and the rate
limiter were most of its start-up (benchmarks/cli_startup.py times it)."""

import json
import os
import subprocess
import sys

from portal.config import Settings
from tests.operator import operator_cli, run

# Runs `portal ARGS...` in a fresh interpreter, then names which of the heavy modules it loaded.
_PROBE = """
import runpy, sys
sys.argv = ["portal", *sys.argv[1:]]
try:
    runpy.run_module("portal.cli.main", run_name="__main__")
except SystemExit as done:
    assert not done.code, done.code
heavy = ("fastapi", "starlette", "uvicorn", "jwt", "argon2", "limits", "cryptography", "httpx")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def _loaded(settings: Settings, *args: str) -> list[str]:
    env = {**os.environ, **operator_cli(settings).env}  # type: ignore[dict-item]
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + _PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_simple_commands_load_nothing_of_the_api(settings: Settings) -> None:
    run(operator_cli(settings), "tenants", "create", "globex", "--name", "Globex")

    assert _loaded(settings, "tenants", "list", "--json") == []
    assert _loaded(settings, "images", "list") == []
    assert _loaded(settings, "--help") == []
