"""The long-running processes: the API server and the webhook worker."""

import asyncio
import signal

import structlog
import typer
import uvicorn

from portal.api.server import uvicorn_config
from portal.background import BackgroundWorkers
from portal.cli.context import console, migrate
from portal.config import Settings, load_settings
from portal.logs import configure_logging
from portal.runtime import Runtime


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Migrate the database if needed and serve the API and the web console."""
    migrate()
    settings = load_settings()
    console.print(f"Portal on http://{host}:{port}  (API docs: http://{host}:{port}/api/docs)")
    console.print(
        f"Web console: http://<tenant>.{settings.base_domain}:{port}/  (e.g. http://acme.{settings.base_domain}:{port}/)"
    )
    console.print(sign_in_limit(settings), highlight=False)
    warn_at_start(settings)
    uvicorn.Server(uvicorn_config("portal.app:create_app", settings, host, port, factory=True)).run()


def worker() -> None:
    """Migrate the database if needed, then deliver webhooks and run queued jobs (rescans) until SIGTERM or
    SIGINT (then finish the work in flight and stop). Run as many as you like on PostgreSQL; on SQLite one
    is enough."""
    migrate()
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    warn_at_start(settings)

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


def sign_in_limit(settings: Settings) -> str:
    """The login limit, said at start: a newcomer who mistypes a few times then knows why and what to set."""
    kept = "in Redis" if settings.redis_url else "in this process's memory, reset when it restarts"
    return (
        f"Sign-ins: {settings.login_rate_limit} per client address (PORTAL_LOGIN_RATE_LIMIT); "
        f"the counters are kept {kept}"
    )


def warn_at_start(settings: Settings) -> None:
    """Logs a warning for each development setting left on, so that none reaches production unseen."""
    configure_logging(settings.log_level, settings.log_json)
    if settings.webhook_allow_private:
        structlog.get_logger("portal.serve").warning(
            "webhook_private_targets_allowed",
            setting="PORTAL_WEBHOOK_ALLOW_PRIVATE",
            detail="webhooks may be sent to http:// URLs and to private addresses (this machine, its "
            "network, cloud metadata): for development only",
        )
