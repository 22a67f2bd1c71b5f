from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService, ImportReport, count_records
from portal.cli.context import JsonOption, errors, report, run_in_transaction
from portal.cli.progress import progress_bar
from portal.runtime import Runtime

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("import")
def import_advisories(
    paths: list[Path] = typer.Argument(..., help="OSV JSON files, folders of them, or osv.dev zip archives."),
    as_json: bool = JsonOption,
) -> None:
    """Import or update advisories: a newer `modified` replaces the stored record; malformed ones are
    reported and skipped. Run `portal scan` afterwards to rescan the published versions."""
    total = sum(count_records(path) for path in paths if path.exists())

    async def work(runtime: Runtime, session: AsyncSession) -> ImportReport:
        with progress_bar("Importing advisories", total) as advance:
            return await AdvisoryService(session, runtime.clock).import_sources(paths, advance)

    result = run_in_transaction(work)
    if not as_json:
        for failure in result.failures:
            errors.print(f"[yellow]skipped[/yellow] {failure.source}: {failure.reason}", highlight=False)
    report(
        as_json,
        result.as_json(),
        f"{result.imported} imported, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.withdrawn} withdrawn, {result.failed} failed",
    )
    if result.failed and not (result.imported or result.updated or result.unchanged):
        raise typer.Exit(1)
