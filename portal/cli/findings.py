from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.cli.context import JsonOption, report, run_in_transaction
from portal.kit.pagination import PageParams, Slice
from portal.runtime import Runtime
from portal.scanning.listing import Finding, FindingFilters, SortOrder
from portal.scanning.schemas import finding_out
from portal.scanning.service import ScanService

SEVERITIES = ("critical", "high", "medium", "low", "unknown")


def findings(
    image: str = typer.Option(..., "--image", help="The image's name."),
    version: str | None = typer.Option(
        None, "--version", help="A digest or tag of the version; its newest published version if omitted."
    ),
    sort: str = typer.Option("severity", "--sort", help="severity, or risk (KEV, EPSS, CVSS, fixable)."),
    severity: list[str] = typer.Option([], "--severity", help="Only this severity (repeat for several)."),
    kev: bool | None = typer.Option(None, "--kev/--not-kev", help="Only findings in (or not in) CISA's KEV."),
    fixable: bool | None = typer.Option(
        None, "--fixable/--not-fixable", help="Only findings with (or without) a fix."
    ),
    epss_min: float | None = typer.Option(
        None, "--epss-min", min=0, max=1, help="Only findings with EPSS >= this."
    ),
    package: str | None = typer.Option(None, "--package", help="A part of the package's name or purl."),
    limit: int = typer.Option(50, "--limit", min=1, max=100000, help="At most this many findings."),
    suppressed: bool = typer.Option(
        False, "--suppressed", help="Also the findings a vendor VEX statement marks not_affected or fixed."
    ),
    as_json: bool = JsonOption,
) -> None:
    """The findings of a version's newest scan, as tenants read them (GET .../scans/{id}/findings)."""
    if sort not in ("severity", "risk"):
        raise typer.BadParameter("must be severity or risk", param_hint="--sort")
    for word in severity:
        if word not in SEVERITIES:
            raise typer.BadParameter(f"must be one of {', '.join(SEVERITIES)}", param_hint="--severity")
    order: SortOrder = "risk" if sort == "risk" else "severity"
    filters = FindingFilters.of(list(severity or []), kev, fixable, epss_min, package, suppressed)

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[str, str, Slice[Finding]]:
        service = ScanService(session, runtime.clock)
        chosen, scan = await service.operator_latest(image, version)
        page = await service.operator_findings(
            chosen, scan, order=order, filters=filters, page=PageParams(limit=limit)
        )
        return chosen.id, scan.id, page

    version_id, scan_id, page = run_in_transaction(work)
    items: list[dict[str, Any]] = [finding_out(f).model_dump(mode="json", by_alias=True) for f in page.items]
    lines = [
        f"{image} version {version_id}, scan {scan_id}: {len(items)} findings"
        + (" (more)" if page.next_cursor else "")
    ]
    for item in items:
        signals = []
        if item["kev"]:
            signals.append("KEV")
        if item["epss"]:
            signals.append(f"EPSS {item['epss']['score']:.3f}")
        score = f" {item['cvssScore']}" if item["cvssScore"] is not None else ""
        fix = f" -> {item['fixedVersion']}" if item["fixedVersion"] else ""
        if item["vex"]:
            signals.append(item["vex"]["status"])
        lines.append(
            f"  {item['vulnerabilityId']:<22} {item['severity']:<8}{score:<5} {' '.join(signals):<16} "
            f"{item['package']['name']} {item['package']['version'] or ''}{fix}"
        )
    report(
        as_json,
        {"image": image, "versionId": version_id, "scanId": scan_id, "items": items},
        "\n".join(lines),
    )
