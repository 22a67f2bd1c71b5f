"""The long-running processes: the API server and the background worker.

Both migrate the database first unless told not to (`--no-migrate`, for fleets that migrate in a release
step); on PostgreSQL any number of them may start at once (the migration takes an advisory lock). On
PostgreSQL, where several hosts share the data, they refuse or warn about what each host would otherwise
make up for itself.
"""

import asyncio
import signal

import typer
import uvicorn

from portal.api.server import uvicorn_config
from portal.background import BackgroundWorkers
from portal.cli.context import cli_settings, console, fail, migrate, require_current_schema
from portal.config import Settings
from portal.logs import configure_logging, get_logger
from portal.runtime import Runtime

log = get_logger("portal.start")

NoMigrate = typer.Option(
    False,
    "--no-migrate",
    help="Do not migrate; refuse to start unless the schema is current (run `portal db upgrade` first).",
)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    no_migrate: bool = NoMigrate,
) -> None:
    """Migrate the database if needed and serve the API and the web console."""
    settings = cli_settings()
    _start(settings, serving=True, no_migrate=no_migrate)
    console.print(f"Portal on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    console.print(
        f"Web console: http://<tenant>.{settings.base_domain}:{port}/  (e.g. http://acme.{settings.base_domain}:{port}/)"
    )
    console.print(sign_in_limit(settings), highlight=False)
    uvicorn.Server(uvicorn_config("portal.app:served_app", settings, host, port, factory=True)).run()


def worker(no_migrate: bool = NoMigrate) -> None:
    """Migrate the database if needed, then deliver webhooks and run queued jobs (rescans) until SIGTERM or
    SIGINT (then finish the work in flight and stop). Run as many as you like on PostgreSQL; on SQLite one
    is enough."""
    settings = cli_settings()
    _start(settings, serving=False, no_migrate=no_migrate)

    async def main() -> None:
        runtime = Runtime.build(settings)
        await runtime.start()
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


def _start(settings: Settings, *, serving: bool, no_migrate: bool) -> None:
    """What `serve` and `worker` do before they run, logging at the settings' level from the first line
    on: check the fleet's settings, bring the schema up to date (or require it current), and warn of
    development settings left on."""
    configure_logging(settings.log_level, settings.log_json)
    check_fleet_settings(settings, serving=serving)
    if no_migrate:
        require_current_schema()
    else:
        migrate()
    warn_at_start(settings)


def check_fleet_settings(settings: Settings, *, serving: bool) -> None:
    """On PostgreSQL (where several hosts may share the data): no key made up per host for tokens; a
    warning for what would silently stay per process (an API's login counters) or per host."""
    if not settings.effective_database_url.startswith("postgresql"):
        return
    if serving and not settings.secret_key:
        fail(
            "PORTAL_DATABASE_URL is PostgreSQL but PORTAL_SECRET_KEY is not set: each host would sign "
            "access tokens with a key of its own and refuse the others'. Set PORTAL_SECRET_KEY to the same "
            "long random value on every host (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        )
    if serving and not settings.redis_url:  # a worker takes no logins
        log.warning(
            "login_limits_per_process",
            message="PORTAL_REDIS_URL is not set: each process counts login and refresh attempts on its "
            "own, so a fleet of N processes allows N times the limit. Set PORTAL_REDIS_URL.",
        )
    if not settings.encryption_key:
        log.warning(
            "encryption_key_per_host",
            message="PORTAL_ENCRYPTION_KEY is not set: webhook signing secrets are encrypted with a key "
            f"kept in {settings.encryption_key_file}; every host must have the same one. Set "
            "PORTAL_ENCRYPTION_KEY (see `portal secrets`).",
        )


def sign_in_limit(settings: Settings) -> str:
    """The login limit, said at start: a newcomer who mistypes a few times then knows why and what to set."""
    kept = "in Redis" if settings.redis_url else "in this process's memory, reset when it restarts"
    return (
        f"Sign-ins: {settings.login_rate_limit} per client address (PORTAL_LOGIN_RATE_LIMIT); "
        f"the counters are kept {kept}"
    )


def warn_at_start(settings: Settings) -> None:
    """Logs a warning for each development setting left on, so that none reaches production unseen."""
    if settings.webhook_allow_private:
        log.warning(
            "webhook_private_targets_allowed",
            setting="PORTAL_WEBHOOK_ALLOW_PRIVATE",
            detail="webhooks may be sent to http:// URLs and to private addresses (this machine, its "
            "network, cloud metadata): for development only",
        )
