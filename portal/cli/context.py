"""Running a command: one runtime, one unit of work, errors printed for people.

Expected conditions (no database yet, a schema behind the code, a database that does not answer, a bad
`PORTAL_*` setting, a refused input) end the command with one `error:` line and exit status 1; only a
bug shows a traceback.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.auth.actor import Actor
    from portal.config import Settings
    from portal.migrations import Upgrade
    from portal.runtime import Runtime

T = TypeVar("T")


def _console(stderr: bool = False) -> Console:
    # Never hard-wrapped: a digest or a path split over two lines breaks grep and copy-paste. A terminal
    # wraps long lines itself; in a pipe or a log, a table takes the width its cells need.
    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal:
        console.width = 100_000
    return console


console = _console()
errors = _console(stderr=True)

JsonOption = typer.Option(
    False, "--json", help="Print one JSON object on stdout instead of a line for people."
)


def operator() -> Actor:
    """The actor of the command being run: the operator, named by the login that ran it."""
    from portal.auth.actor import Actor

    return Actor.operator()


def fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


def report(as_json: bool, data: dict[str, Any], human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
    else:
        console.print(human, highlight=False)


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        return password
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


def cli_settings() -> Settings:
    """The `PORTAL_*` settings, or one line per bad one."""
    from pydantic import ValidationError

    from portal.config import load_settings

    try:
        return load_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"PORTAL_{'_'.join(str(p) for p in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()
        )
        fail(f"bad setting: {problems}")


def database_name(settings: Settings) -> str:
    """Where the data is, for people: the SQLite file, or the URL without its password."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database))
    return url.render_as_string(hide_password=True)


def runtime_for_cli(settings: Settings | None = None) -> Runtime:
    """A command's runtime, logging warnings only: a command's output is what it reports."""
    from portal.logs import configure_logging

    settings = settings or cli_settings()
    configure_logging("WARNING", settings.log_json)
    return _runtime(settings)


def _runtime(settings: Settings) -> Runtime:
    """A runtime that leaves logging as it is: for the schema steps `serve` and `worker` take first, after
    choosing how they log."""
    from portal.runtime import Runtime

    return Runtime.build(settings)


def migrate() -> Upgrade:
    """Brings the schema up to date (creating it, and the SQLite file's folder, if needed)."""
    from portal.migrations import current_revision, upgrade

    async def main() -> Upgrade:
        runtime = _runtime(cli_settings())
        try:
            if runtime.db.is_sqlite:
                runtime.db.url_path_parent_mkdir()
            await _answering(runtime, current_revision(runtime.db))
            return await upgrade(runtime.db)
        finally:
            await runtime.close()

    return asyncio.run(main())


def require_current_schema() -> None:
    """Stops with a line that says what to do unless the database exists with the current schema."""
    settings = cli_settings()
    _require_database_file(settings)

    async def main() -> None:
        runtime = _runtime(settings)
        try:
            await _require_current_schema(runtime, settings)
        finally:
            await runtime.close()

    asyncio.run(main())


def record_import(runtime: Runtime, kind: str, started: float) -> None:
    """An import's duration (since `time.perf_counter()` was `started`) for the host's metrics: only
    where processes share PROMETHEUS_MULTIPROC_DIR, since this process ends before any scrape."""
    import os
    import time

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        runtime.metrics.imports.labels(kind).observe(time.perf_counter() - started)


def run_in_transaction(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one transaction: it commits when the command succeeds and not otherwise."""

    async def in_transaction(runtime: Runtime) -> T:
        async with runtime.db.transaction() as session:
            return await work(runtime, session)

    return run_with_runtime(in_transaction)


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Runs `work` on a database whose schema is current (or stops with a line that says what to do).
    `work` opens the transactions it needs (a job that commits batch by batch, say)."""
    from portal.errors import PortalError

    settings = cli_settings()
    _require_database_file(settings)

    async def main() -> T:
        runtime = runtime_for_cli(settings)
        try:
            await _require_current_schema(runtime, settings)
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except PortalError as exc:
        fail(exc.message)


def database_exists(settings: Settings) -> bool:
    """False only for a SQLite file that is not there (a server database is asked when it is used)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return True
    return Path(url.database).exists()


def database_revision(settings: Settings) -> str | None:
    """The schema revision of the database; None when there is no database or no schema yet."""
    from portal.migrations import current_revision

    if not database_exists(settings):
        return None

    async def read() -> str | None:
        runtime = runtime_for_cli(settings)
        try:
            return await _answering(runtime, current_revision(runtime.db))
        finally:
            await runtime.close()

    return asyncio.run(read())


def _require_database_file(settings: Settings) -> None:
    # Checked before anything opens it: connecting would create an empty file (and its folder) in
    # whatever folder the command happens to run from.
    if not database_exists(settings):
        fail(
            f"no database at {database_name(settings)} (PORTAL_DATA_DIR is {settings.data_dir}, relative "
            f"to this folder). Run `portal db upgrade` to create it here, or run portal where its data is, "
            f"or set PORTAL_DATA_DIR or PORTAL_DATABASE_URL."
        )


async def _require_current_schema(runtime: Runtime, settings: Settings) -> None:
    from portal.migrations import current_revision, head_revision

    current, head = await _answering(runtime, current_revision(runtime.db)), head_revision()
    where = database_name(settings)
    if current is None:
        fail(f"the database {where} has no Portal schema yet: run `portal db upgrade`.")
    if current < head:
        fail(
            f"the database {where} is at schema {current}, this portal needs {head}: run `portal db upgrade`."
        )
    if current > head:
        fail(
            f"the database {where} is at schema {current}, newer than this portal knows ({head}): "
            f"run a newer portal."
        )


async def _answering(runtime: Runtime, query: Awaitable[T]) -> T:
    """The query's answer, or one line when the database cannot be reached or opened."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        return await query
    except (OSError, OperationalError, InterfaceError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        fail(f"cannot open the database {database_name(runtime.settings)}: {reason}")
