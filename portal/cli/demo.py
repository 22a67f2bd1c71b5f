"""`portal demo`: the demo tenant, for a first look and for the README's walkthrough."""

from portal.cli.context import JsonOption, migrate, operator, report, run_with_runtime
from portal.demo import DemoReport, run_demo


def demo(as_json: bool = JsonOption) -> None:
    """Seed the demo tenant `acme`, its users, a catalog of images, advisories, their scans and CVE watches
    (idempotent); print the credentials and what the demo holds."""
    migrate()
    _print_demo(run_with_runtime(lambda runtime: run_demo(runtime, operator())), as_json)


def _print_demo(seeded: DemoReport, as_json: bool) -> None:
    credentials = seeded.credentials
    data = {
        "tenant": credentials.tenant,
        "users": [
            {"email": email, "role": str(role), "password": password}
            for email, (role, password) in credentials.users.items()
        ],
        "images": list(credentials.images),
        "advisories": list(seeded.advisories),
        "scans": [{"image": scan.image, "summary": scan.summary} for scan in seeded.scans],
        "watches": [
            {"cveId": watch.cve_id, "status": watch.status, "images": list(watch.images)}
            for watch in seeded.watches
        ],
    }
    lines = [f"Demo tenant [bold]{credentials.tenant}[/bold] (send it as X-Tenant):"]
    lines += [
        f"  {role:<6} {email:<22} password: {password}"
        for email, (role, password) in credentials.users.items()
    ]
    lines.append(f"Images granted to it: {', '.join(credentials.images)}")
    scanned = f" ({', '.join(seeded.images_scanned)})" if seeded.images_scanned else ""
    lines.append(
        f"Advisories: {len(seeded.advisories)} demo advisories ({seeded.advisories_added} new); "
        f"scans: {len(seeded.images_scanned)} new{scanned}"
    )
    lines.append("Findings: " + ", ".join(_findings(scan.image, scan.summary) for scan in seeded.scans))
    lines.append(
        f"CVE watches ({seeded.watches_added} new): "
        + ", ".join(
            f"{w.cve_id} {w.status}" + (f" ({', '.join(w.images)})" if w.images else "")
            for w in seeded.watches
        )
    )
    report(as_json, data, "\n".join(lines))


def _findings(image: str, summary: dict[str, int]) -> str:
    return f"{image} {summary['total']} ({summary['fixable']} fixable)" if summary["total"] else f"{image} 0"
