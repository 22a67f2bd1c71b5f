"""`portal`: the table of commands. Each is imported only when it runs (see `portal.cli`)."""

import typer

from portal.cli.lazy import LazyCommand, LazyGroup


class PortalCommands(LazyGroup):
    lazy = {
        "serve": LazyCommand("portal.cli.server:serve", "Migrate the database if needed and serve the API."),
        "worker": LazyCommand(
            "portal.cli.server:worker", "Deliver webhooks and run queued jobs (without the API)."
        ),
        "db": LazyCommand("portal.cli.db:app", "The database: its schema and where it is."),
        "demo": LazyCommand("portal.cli.demo:demo", "Seed the demo tenant `acme` (idempotent)."),
        "tenants": LazyCommand("portal.cli.tenants:app", "Tenants: the vendor's customers."),
        "users": LazyCommand("portal.cli.users:app", "Users of a tenant and their roles."),
        "images": LazyCommand(
            "portal.cli.images:app", "Images: publish versions with their SBOMs, and grant tenants access."
        ),
        "advisories": LazyCommand(
            "portal.cli.advisories:app", "Vulnerability advisories: OSV records and NVD CVE records."
        ),
        "intel": LazyCommand(
            "portal.cli.intel:app", "Exploitation signals: CISA's KEV catalog and FIRST's EPSS."
        ),
        "scan": LazyCommand("portal.cli.scan:scan", "Scan published versions against the advisories."),
        "findings": LazyCommand("portal.cli.findings:findings", "The findings of a version's newest scan."),
        "vex": LazyCommand(
            "portal.cli.vex:app", "The vendor's VEX statements: import, add, list and revoke them."
        ),
        "requests": LazyCommand(
            "portal.cli.requests:app", "Tenants' feature requests, package requests and bug reports."
        ),
        "api-keys": LazyCommand("portal.cli.apikeys:app", "A tenant's API keys: list and revoke them."),
        "audit": LazyCommand("portal.cli.audit:app", "The audit log: who did what, in every tenant."),
        "secrets": LazyCommand(
            "portal.cli.secrets:app", "The key that encrypts webhook signing secrets at rest; rotate it."
        ),
    }


app = typer.Typer(
    cls=PortalCommands,
    help="Operate the portal: tenants, users, images, advisories.",
    no_args_is_help=True,
    rich_markup_mode=None,
    # A traceback's local variables can hold passwords and tokens.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def portal() -> None:
    # A callback makes the table a group even before any command is loaded.
    pass


if __name__ == "__main__":
    app()
