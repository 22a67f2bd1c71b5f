import time
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.service import AdvisoryService, ImportReport, count_records
from portal.audit import AuditAction, record_audit
from portal.cli.context import JsonOption, errors, fail, operator, record_import, report, run_in_transaction
from portal.cli.progress import progress_bar
from portal.runtime import Runtime
from portal.scanning.runs import ScanRunner

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("import")
def import_advisories(
    paths: list[Path] = typer.Argument(
        ...,
        help="OSV JSON files (PYSEC, GHSA, GO, CGA ...), NVD CVE records (CVE API 2.0 JSON), folders of "
        "them, or zip archives.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Import or update advisories: a newer `modified` replaces the stored record; malformed ones are
    reported and skipped. The versions whose packages the changes name are queued for a rescan, which the
    worker runs (`portal worker`, or `portal serve`)."""
    for path in paths:
        if not path.exists():
            fail(f"{path}: no such file or folder")
    total = sum(count_records(path) for path in paths)
    if total == 0:
        fail(f"nothing to import: no .json file in {', '.join(map(str, paths))}")

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[ImportReport, int]:
        started = time.perf_counter()
        with progress_bar("Importing advisories", total) as advance:
            imported = await AdvisoryService(session, runtime.clock).import_sources(paths, advance)
        record_import(runtime, "advisories", started)
        queued = await ScanRunner(session, runtime.clock).queue_rescans(imported.changed_packages)
        record_audit(
            session,
            operator(),
            AuditAction.ADVISORIES_IMPORTED,
            details={
                "sources": [path.name for path in paths][:20],
                "imported": imported.imported,
                "updated": imported.updated,
                "withdrawn": imported.withdrawn,
                "failed": imported.failed,
                "rescansQueued": queued,
            },
            clock=runtime.clock,
        )
        return imported, queued

    result, queued = run_in_transaction(work)
    if not as_json:
        for failure in result.failures:
            errors.print(f"[yellow]skipped[/yellow] {failure.source}: {failure.reason}", highlight=False)
    report(
        as_json,
        {**result.as_json(), "rescansQueued": queued},
        f"{result.imported} imported, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.withdrawn} withdrawn, {result.failed} failed; {queued} versions queued for a rescan",
    )
    if result.failed and not (result.imported or result.updated or result.unchanged):
        raise typer.Exit(1)
