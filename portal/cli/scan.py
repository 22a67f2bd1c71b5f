from collections.abc import Callable
from contextlib import ExitStack

import typer

from portal.audit import AuditAction, AuditTarget, record_audit
from portal.cli.context import JsonOption, operator, report, run_with_runtime
from portal.cli.progress import progress_bar
from portal.runtime import Runtime
from portal.scanning.tasks import ScanRunReport, rescan


def scan(
    image: str | None = typer.Option(None, "--image", help="Only this image's published versions."),
    as_json: bool = JsonOption,
) -> None:
    """Scan every published version (or one image's) against the imported advisories: each version gets a
    new entry in its scan history, and entitled tenants get scan.completed and CVE watch events."""

    async def work(runtime: Runtime) -> ScanRunReport:
        with ExitStack() as stack:
            advance: list[Callable[[int], None]] = []

            def planned(total: int) -> None:
                advance.append(stack.enter_context(progress_bar("Scanning versions", total)))

            result = await rescan(
                runtime.db, runtime.clock, image_name=image, on_plan=planned, progress=lambda n: advance[0](n)
            )
        # Each batch of the run committed on its own; the event says what the run did, once it is done.
        async with runtime.db.transaction() as session:
            record_audit(
                session,
                operator(),
                AuditAction.SCAN_RUN,
                AuditTarget("image", None, image) if image else None,
                details={
                    "versions": len(result.versions),
                    "findings": result.findings,
                    "skipped": result.skipped,
                },
                clock=runtime.clock,
            )
        return result

    result = run_with_runtime(work)
    rate = result.components / result.seconds if result.seconds else 0.0
    report(
        as_json,
        result.as_json(),
        f"Scanned {len(result.versions)} versions ({result.components} components, "
        f"{result.advisories_loaded} advisories loaded) in {result.seconds:.2f} s, {rate:,.0f} components/s; "
        f"{result.findings} findings; feed {result.feed_version}"
        + (
            f"; {result.skipped} just scanned by another run against the same advisories"
            if result.skipped
            else ""
        ),
    )
