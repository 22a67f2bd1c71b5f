"""Drives the `portal` command line in-process, against a test's database."""

import asyncio

from typer.testing import CliRunner

from portal.cli.main import app as cli
from portal.config import Settings
from tests.conftest import FAST_ARGON2


def operator_cli(settings: Settings) -> CliRunner:
    env = {
        "PORTAL_DATABASE_URL": settings.effective_database_url,
        "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": settings.effective_secret_key,
        **{f"PORTAL_{key.upper()}": str(value) for key, value in FAST_ARGON2.items()},
    }
    return CliRunner(env=env)


def run(runner: CliRunner, *args: str, stdin: str | None = None, ok: bool = True) -> str:
    """Runs one command; asserts it succeeded (or, with ok=False, failed) and returns its output."""
    result = runner.invoke(cli, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert (result.exit_code == 0) == ok, result.output
    return result.output


async def run_async(runner: CliRunner, *args: str, stdin: str | None = None, ok: bool = True) -> str:
    """The same from an async test: the command runs its own event loop, so it gets a thread."""
    return await asyncio.to_thread(run, runner, *args, stdin=stdin, ok=ok)
