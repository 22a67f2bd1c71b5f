"""The ASGI application: `create_app()` wires routers, errors, middleware and the runtime."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from portal import __version__
from portal.api.cached_reads import CachedReads
from portal.api.docs import install_docs
from portal.api.errors import install_error_handlers
from portal.api.middleware import RequestContext
from portal.api.openapi import without_framework_validation_errors
from portal.api.routing import add_routes
from portal.apikeys.routes import router as apikeys_router
from portal.audit.routes import router as audit_router
from portal.auth.guard import BEARER_SCHEME
from portal.auth.routes import router as auth_router
from portal.background import BackgroundWorkers
from portal.catalog.routes import router as catalog_router
from portal.config import Settings, load_settings
from portal.logs import AccessLog, configure_logging
from portal.requests.routes import router as requests_router
from portal.runtime import Runtime
from portal.scanning.routes import router as scanning_router
from portal.status.metrics import install_metrics
from portal.status.routes import router as status_router
from portal.users.routes import router as users_router
from portal.vex.routes import router as vex_router
from portal.watches.routes import router as watches_router
from portal.web import install_web
from portal.webhooks.payloads import document_webhooks
from portal.webhooks.routes import router as webhooks_router
from portal.webhooks.schemas import document_webhook_urls

ROUTERS = (
    status_router,
    auth_router,
    catalog_router,
    scanning_router,
    vex_router,
    watches_router,
    requests_router,
    webhooks_router,
    users_router,
    apikeys_router,
    audit_router,
)


def served_app() -> FastAPI:
    """The app `portal serve` runs (uvicorn's factory): `create_app`, whose heap is frozen once started.

    Everything alive once the app has started (modules, classes, mappers, routes: some 190,000
    objects) stays alive as long as the process does, yet the cyclic garbage collector would walk all of
    it in each full collection, about every few seconds under load, stopping every request for 0.1-0.2 s
    on this machine. `gc.freeze()` leaves them out of its walks; what is made later is collected as ever.
    Only here: a test process builds many apps, and what they leave would then never be collected."""
    return create_app(freeze_heap=True)


# Young collections once per 10,000 new container objects rather than 700: a request makes a few hundred,
# so the default promoted those of the requests in flight to the old generation every few requests,
# and a full collection followed every few seconds, walking what the process keeps after start (the
# read cache, a scanned version's 5,000 components): 35-260 ms, every request waiting. With these,
# none ran in a ten-second run at 4,000 requests a second; a young one takes 2-4 ms.
GC_THRESHOLDS = (10_000, 20, 50)


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, freeze_heap: bool = False
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else load_settings())
    runtime = runtime or Runtime.build(settings)
    runtime.check_api_settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.hasher.prepare()
        await runtime.start()
        if freeze_heap:
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        # The embedded default needs no second process: the API delivers its own webhooks and runs its jobs.
        workers = BackgroundWorkers.build(runtime) if settings.run_worker else None
        task = asyncio.create_task(workers.run(), name="background-workers") if workers else None
        app.state.worker = workers.delivery if workers else None
        app.state.job_worker = workers.jobs if workers else None
        try:
            yield
        finally:
            if workers is not None and task is not None:
                workers.stop()
                await task
            app.state.worker = None
            app.state.job_worker = None
            await runtime.close()

    app = FastAPI(
        # FastAPI's OpenTelemetry bridge asks on every request whether a provider was configured (about
        # 10 µs in-process, a ninth of a cached read then); the portal reports through its own metrics
        # and logs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="Portal API",
        version=__version__,
        description="Hardened container images, their SBOMs and vulnerability scans, for your tenant.",
        openapi_url="/api/openapi.json",
        # Served by install_docs from the package's own copies of Swagger UI and ReDoc, not a CDN.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.worker = None
    app.state.job_worker = None
    install_error_handlers(app)
    install_docs(app, "/api/openapi.json")
    for router in ROUTERS:
        add_routes(app, router)
    install_metrics(app)
    # Middleware added first sits innermost: repeated reads are answered inside the pages' headers and
    # RequestContext, so what it answers gets what any answer gets.
    app.add_middleware(CachedReads)
    # After the API's routes and error handlers: the console's pages, with HTML errors for them alone.
    install_web(app)
    document_webhooks(app)
    _document_errors(app, settings)
    app.add_middleware(
        RequestContext,
        access_log=AccessLog(settings.log_level, settings.log_json),
        metrics=runtime.metrics,
        max_header_bytes=settings.max_header_bytes,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout_seconds,
    )
    return app


def _document_errors(app: FastAPI, settings: Settings) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = without_framework_validation_errors(generate())
            schema.setdefault("components", {})["securitySchemes"] = {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The accessToken from POST /api/auth/login, or an API key (ptk_...).",
                }
            }
            document_webhook_urls(schema, settings.webhook_allow_private)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
