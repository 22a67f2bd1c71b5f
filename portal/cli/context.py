"""Running a command: one runtime, one unit of work, errors printed for people."""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.config import load_settings
from portal.errors import PortalError
from portal.logs import configure_logging
from portal.runtime import Runtime

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

JsonOption = typer.Option(
    False, "--json", help="Print one JSON object on stdout instead of a line for people."
)


def operator() -> Actor:
    """The actor of the command being run: the operator, named by the login that ran it."""
    return Actor.operator()


def runtime_for_cli() -> Runtime:
    settings = load_settings()
    configure_logging("WARNING", settings.log_json)
    return Runtime.build(settings)


def run_in_transaction(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one transaction: it commits when the command succeeds and not otherwise."""

    async def in_transaction(runtime: Runtime) -> T:
        async with runtime.db.transaction() as session:
            return await work(runtime, session)

    return run_with_runtime(in_transaction)


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Runs `work`, which opens the transactions it needs (a job that commits batch by batch, say)."""

    async def main() -> T:
        runtime = runtime_for_cli()
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except PortalError as exc:
        fail(exc.message)


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
