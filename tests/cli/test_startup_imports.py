"""A simple command imports what it needs and nothing else: the API (FastAPI, JWT, argon2, the rate
limiter), the SBOM, VEX and version-range libraries, structlog, Alembic, the PostgreSQL dialect on SQLite
were most of its start-up. `benchmarks/cli_startup.py` times it; this names what may not come back."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import portal
from portal.config import Settings
from tests.operator import operator_cli, run

# Runs `portal ARGS...` in a fresh interpreter, then names which of the heavy modules it loaded.
_PROBE = """
import json, runpy, sys
sys.argv = ["portal", *sys.argv[1:]]
try:
    runpy.run_module("portal.cli.main", run_name="__main__")
except SystemExit as done:
    assert not done.code, done.code
heavy = json.loads(sys.stdin.read())
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""

# What no simple command needs. The server's stack, the readers of SBOMs, VEX and advisories (jsonschema,
# version ranges, CVSS), the migrations (a command compares the revision's file name), the logging stack
# (imported when a module makes a logger), the metrics and the pages.
HEAVY = [
    "fastapi",
    "starlette",
    "uvicorn",
    "jwt",
    "argon2",
    "limits",
    "cryptography",
    "httpx",
    "structlog",
    "pygments",
    "alembic",
    "jinja2",
    "prometheus_client",
    "jsonschema_rs",
    "univers",
    "cvss",
    "portal.api",
    "portal.sbom.parse",
]
# On SQLite, nothing of PostgreSQL either.
POSTGRESQL = ["sqlalchemy.dialects.postgresql", "asyncpg"]

SIMPLE_COMMANDS = [
    ("--help",),
    ("tenants", "list", "--json"),
    ("users", "list", "--tenant", "globex"),
    ("images", "list"),
    ("images", "grant", "--tenant", "globex", "--image", "python"),
    ("images", "revoke", "--tenant", "globex", "--image", "python"),
    ("images", "publish", "--help"),
    ("requests", "list"),
    ("vex", "list"),
    ("api-keys", "list", "--tenant", "globex"),
    ("audit", "list", "--limit", "5"),
    ("findings", "--image", "python"),
    ("db", "status"),
    ("db", "upgrade"),  # at the head already: nothing to migrate, so no Alembic
]
# On PostgreSQL (slower to set up) the same rule, checked on fewer commands.
SIMPLE_ON_POSTGRESQL = [("tenants", "list", "--json"), ("images", "list"), ("vex", "list")]


def _loaded(settings: Settings, args: tuple[str, ...], heavy: list[str]) -> list[str]:
    env = {**os.environ, **operator_cli(settings).env}  # type: ignore[dict-item]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=env,
        input=json.dumps(heavy),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_simple_commands_load_nothing_they_do_not_use(settings: Settings, tmp_path: Path) -> None:
    cli = operator_cli(settings)
    run(cli, "tenants", "create", "globex", "--name", "Globex")
    sbom = tmp_path / "sbom.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}')
    run(
        cli,
        *("images", "publish", "--name", "python", "--repository", "registry.example.com/python"),
        *("--tag", "3.12", "--digest", "sha256:" + "ab" * 32, "--sbom", str(sbom)),
    )
    run(cli, "scan")

    on_sqlite = settings.effective_database_url.startswith("sqlite")
    commands = SIMPLE_COMMANDS if on_sqlite else SIMPLE_ON_POSTGRESQL
    heavy = HEAVY + POSTGRESQL if on_sqlite else HEAVY
    loaded = {" ".join(args): _loaded(settings, args, heavy) for args in commands}
    assert loaded == {" ".join(args): [] for args in commands}


def test_modules_log_through_portal_logs() -> None:
    """`portal.logs.get_logger` applies the logging a command chose before structlog was imported; a
    logger taken from structlog directly would print a command's warnings with structlog's defaults."""
    root = Path(portal.__file__).parent
    direct = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "logs.py" and "structlog.get_logger" in path.read_text(encoding="utf-8")
    ]
    assert direct == []


@pytest.mark.parametrize("json_lines", [True, False])
def test_the_logging_a_command_chose_applies_when_a_module_first_logs(json_lines: bool) -> None:
    script = f"""
import sys
from portal.logs import configure_logging, get_logger
configure_logging("WARNING", {json_lines})
assert "structlog" not in sys.modules
log = get_logger("portal.test")
log.info("not shown")
log.warning("shown", detail=1)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    assert "not shown" not in done.stderr
    (line,) = done.stderr.splitlines()
    if json_lines:
        assert json.loads(line) | {"timestamp": None} == {
            "event": "shown",
            "detail": 1,
            "level": "warning",
            "timestamp": None,
        }
    else:
        assert "shown" in line and "detail" in line
