"""`GET /metrics`: the Prometheus text format, for a scraper holding `PORTAL_METRICS_TOKEN`.

Not part of the API (no tenant, not in the OpenAPI document): 404 while the setting is unset, 401 for
any other credential than `Authorization: Bearer <the token>`.
"""

import hmac

from fastapi import FastAPI, Request, Response
from starlette.routing import Route

from portal.errors import NotFound, Unauthorized
from portal.events.service import outbox_backlog
from portal.jobs.queue import queue_backlog
from portal.metrics import CONTENT_TYPE, QueueFigures
from portal.runtime import Runtime
from portal.webhooks.claims import delivery_backlog

PATH = "/metrics"


async def metrics(request: Request) -> Response:
    # Starlette names the matched route only for FastAPI's own routes; the request counter needs it.
    request.scope.setdefault("route", ROUTE)
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    if not token:
        raise NotFound("No such route.")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise Unauthorized("The metrics need the bearer token set in PORTAL_METRICS_TOKEN.")
    now = runtime.clock()
    async with runtime.db.sessions() as session:
        pending, oldest = await outbox_backlog(session)
        deliveries, oldest_due_delivery = await delivery_backlog(session, now)
        jobs = await queue_backlog(session)
    figures = QueueFigures(
        now=now,
        outbox_pending=pending,
        outbox_oldest=oldest,
        deliveries_pending=deliveries,
        deliveries_oldest_due=oldest_due_delivery,
        jobs=jobs,
    )
    return Response(runtime.metrics.render(figures), media_type=CONTENT_TYPE)


ROUTE = Route(PATH, metrics, methods=["GET"], include_in_schema=False)


def install_metrics(app: FastAPI) -> None:
    app.router.routes.append(ROUTE)
