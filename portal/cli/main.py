import asyncio
import signal

import typer
import uvicorn

from portal.background import BackgroundWorkers
from portal.cli import advisories, findings, images, intel, requests, scan, tenants, users
from portal.cli.context import JsonOption, console, report, run_with_runtime, runtime_for_cli
from portal.config import load_settings
from portal.demo import DemoReport, run_demo
from portal.logs import configure_logging
from portal.migrations import upgrade
from portal.runtime import Runtime

app = typer.Typer(help="Operate the portal: tenants, users, images, advisories.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenants.app, name="tenants")
app.add_typer(users.app, name="users")
app.add_typer(images.app, name="images")
app.add_typer(requests.app, name="requests")
app.add_typer(advisories.app, name="advisories")
app.add_typer(intel.app, name="intel")
app.command("findings")(findings.findings)
app.command("scan")(scan.scan)


def _migrate() -> None:
    async def main() -> None:
        runtime = runtime_for_cli()
        try:
            await upgrade(runtime.db)
        finally:
            await runtime.close()

    asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Run the migrations up to the newest schema."""
    _migrate()
    console.print("Database is up to date.")


@app.command()
def demo(as_json: bool = JsonOption) -> None:
    """Seed the demo tenant `acme`, its users, a catalog of images, advisories, their scans and CVE watches
    (idempotent); print the credentials and what the demo holds."""
    _migrate()
    _print_demo(run_with_runtime(run_demo), as_json)


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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Migrate the database if needed and serve the API."""
    _migrate()
    settings = load_settings()
    console.print(f"Portal on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=host,
        port=port,
        # The client IP comes from PORTAL_TRUSTED_PROXIES alone; uvicorn would otherwise trust
        # X-Forwarded-For from 127.0.0.1 and let any local proxy pick the rate-limit key.
        proxy_headers=False,
        forwarded_allow_ips="",
        server_header=False,
        access_log=False,
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker() -> None:
    """Migrate the database if needed, then deliver webhooks and run queued jobs (rescans) until SIGTERM or
    SIGINT (then finish the work in flight and stop). Run as many as you like on PostgreSQL; on SQLite one
    is enough."""
    _migrate()
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)

    async def main() -> None:
        runtime = Runtime.build(settings)
        workers = BackgroundWorkers.build(runtime)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, workers.stop)
        try:
            await workers.run()
        finally:
            await runtime.close()

    console.print("Worker running (webhooks and jobs); SIGTERM or Ctrl-C stops it.")
    asyncio.run(main())


if __name__ == "__main__":
    app()
