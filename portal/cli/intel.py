import time
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.cli.context import JsonOption, errors, fail, operator, record_import, report, run_in_transaction
from portal.cli.progress import progress_bar
from portal.intel.feeds import FeedRefused
from portal.intel.service import IntelService
from portal.kit.imports import ImportCounts
from portal.runtime import Runtime
from portal.tenants.models import Tenant  # noqa: F401 (the audit row's tenant_id names its table)

app = typer.Typer(
    help="Exploitation signals: CISA's KEV catalog and FIRST's EPSS scores.", no_args_is_help=True
)
import_app = typer.Typer(help="Import a KEV catalog or an EPSS file.", no_args_is_help=True)
app.add_typer(import_app, name="import")

FileArgument = typer.Argument(..., exists=False, help="The file as its publisher ships it.")


def _run(path: Path, label: str, kind: str, as_json: bool) -> None:
    if not path.is_file():
        fail(f"{path}: no such file")

    async def work(runtime: Runtime, session: AsyncSession) -> ImportCounts:
        service, started = IntelService(session, runtime.clock), time.perf_counter()
        with progress_bar(label, None) as advance:
            try:
                if kind == "kev":
                    counts = await service.import_kev(path, advance)
                else:
                    counts = await service.import_epss(path, advance)
            except FeedRefused as refused:
                fail(str(refused))
        record_import(runtime, kind, started)
        record_audit(
            session,
            operator(),
            AuditAction.KEV_IMPORTED if kind == "kev" else AuditAction.EPSS_IMPORTED,
            AuditTarget("file", None, path.name),
            details=_counts(counts),
            clock=runtime.clock,
        )
        return counts

    result = run_in_transaction(work)
    if not as_json:
        for failure in result.failures:
            errors.print(
                f"[yellow]skipped[/yellow] {path}:{failure.source}: {failure.reason}", highlight=False
            )
    report(
        as_json,
        result.as_json(),
        f"{result.imported} imported, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.failed} failed",
    )
    if result.failed and not (result.imported or result.updated or result.unchanged):
        raise typer.Exit(1)


@import_app.command("kev")
def import_kev(path: Path = FileArgument, as_json: bool = JsonOption) -> None:
    """Import CISA's Known Exploited Vulnerabilities catalog (known_exploited_vulnerabilities.json).
    Findings of a listed CVE show `kev` at once, without a rescan."""
    _run(path, "Importing KEV", "kev", as_json)


@import_app.command("epss")
def import_epss(path: Path = FileArgument, as_json: bool = JsonOption) -> None:
    """Import FIRST's EPSS scores (epss_scores-YYYY-MM-DD.csv, gzipped or not). Findings show `epss` at
    once, without a rescan."""
    _run(path, "Importing EPSS", "epss", as_json)


def _counts(counts: ImportCounts) -> dict[str, int]:
    return {
        "imported": counts.imported,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "failed": counts.failed,
    }
