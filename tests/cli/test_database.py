"""Where the data is and whether its schema is current: every command says so in one line, never with a
traceback, and creates nothing it was not asked to."""

import json
import os
import subprocess
import sys
from pathlib import Path

from portal.db import Database
from portal.migrations import head_revision, upgrade
from tests.conftest import make_settings
from tests.live_server import free_port
from tests.operator import operator_cli, run, run_async

PORTAL = str(Path(sys.executable).parent / "portal")


def portal_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed `portal`, run from `folder` with no PORTAL_* setting but `env`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    return subprocess.run(
        [PORTAL, *args], cwd=folder, env={**clean, **env}, capture_output=True, text=True, check=False
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_command_in_a_folder_without_data_says_where_it_looked_and_creates_nothing(tmp_path: Path) -> None:
    line = one_error_line(portal_in(tmp_path, "tenants", "list"))

    assert f"no database at {tmp_path / 'data' / 'portal.db'}" in line
    assert "portal db upgrade" in line and "PORTAL_DATA_DIR" in line
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_says_whether_it_created_upgraded_or_found_the_schema(
    tmp_path: Path, empty_database_url: str
) -> None:
    portal = operator_cli(make_settings(tmp_path, empty_database_url))
    head = head_revision()

    created = run(portal, "db", "upgrade")
    assert created.startswith(f"Created the schema (revision {head}) in ")
    assert "already has the newest schema" in run(portal, "db", "upgrade")
    status = json.loads(run(portal, "db", "status", "--json"))
    assert (status["revision"], status["head"]) == (head, head)
    assert status["dataDir"] == str((tmp_path / "data").resolve())


def test_a_database_without_the_schema_is_named_with_what_to_run(
    tmp_path: Path, empty_database_url: str
) -> None:
    settings = make_settings(tmp_path, empty_database_url)
    if empty_database_url.startswith("sqlite"):
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "portal.db").touch()
    portal = operator_cli(settings)

    output = run(portal, "tenants", "list", ok=False)

    assert "has no Portal schema yet: run `portal db upgrade`" in output
    assert "no schema yet" in run(portal, "db", "status")


async def test_a_schema_behind_the_code_stops_commands_until_db_upgrade(
    tmp_path: Path, empty_database_url: str
) -> None:
    settings = make_settings(tmp_path, empty_database_url)
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db, "0001")
    finally:
        await db.dispose()
    portal = operator_cli(settings)
    head = head_revision()

    assert f"is at schema 0001, this portal needs {head}: run `portal db upgrade`" in await run_async(
        portal, "tenants", "list", ok=False
    )
    assert f"from revision 0001 to {head}" in await run_async(portal, "db", "upgrade")
    assert json.loads(await run_async(portal, "tenants", "list", "--json")) == {"items": []}


def test_an_unreachable_database_is_one_line_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://portal:hunter2@127.0.0.1:{free_port()}/portal"

    for args in (("tenants", "list"), ("db", "upgrade"), ("db", "status")):
        line = one_error_line(portal_in(tmp_path, *args, PORTAL_DATABASE_URL=url))
        assert "cannot open the database postgresql+asyncpg://portal:***@127.0.0.1:" in line
        assert "hunter2" not in line


def test_a_bad_setting_is_named(tmp_path: Path) -> None:
    line = one_error_line(portal_in(tmp_path, "tenants", "list", PORTAL_WORKER_CONCURRENCY="many"))

    assert "PORTAL_WORKER_CONCURRENCY" in line
