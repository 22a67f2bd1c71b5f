from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field
from sqlalchemy import text

from portal import __version__
from portal.advisories.service import AdvisoryService
from portal.api.openapi import error_responses
from portal.auth.guard import GuardedRoute, Public
from portal.kit.schema import ApiModel
from portal.runtime import Runtime
from portal.webhooks.heartbeat import worker_state

router = APIRouter(prefix="/api", tags=["status"], route_class=GuardedRoute)

STATUS_KEY = "status"


class StatusChecks(ApiModel):
    database: Literal["ok", "unavailable"]
    worker: str = Field(
        description="running: this process's worker runs, or another worker process beat within 30 s; "
        "stopped: the last worker stopped beating without shutting down; not_running: no worker is known; "
        "unknown: the database cannot be reached."
    )
    advisories: str = Field(description="ok: advisories are imported; empty: none yet (scans find nothing).")


class StatusResponse(ApiModel):
    status: Literal["ok", "unavailable"]
    version: str
    time: datetime
    checks: StatusChecks


@router.get(
    "/status",
    response_model=StatusResponse,
    responses={
        **error_responses(500),
        503: {"model": StatusResponse, "description": "The database cannot be reached."},
    },
    summary="Public health probe",
    dependencies=[Depends(Public())],
)
async def status(request: Request) -> Response:
    # One probe answers every probe for PORTAL_STATUS_CACHE_SECONDS: a fleet's load balancers and
    # monitors poll it, and each answer costs three queries. It takes the request alone, so GuardedRoute
    # calls it without FastAPI's parameter handling, which would cost a third of the answer.
    runtime: Runtime = request.app.state.runtime
    answers = runtime.status_answers
    probe = lambda: _probe(request, runtime)  # noqa: E731
    answer = answers.get(STATUS_KEY, runtime.settings.status_cache_seconds, refresh=probe)
    if answer is None:
        answer = await answers.load_once(STATUS_KEY, probe)
    status_code, body = answer
    return Response(body, status_code=status_code, media_type="application/json")


async def _probe(request: Request, runtime: Runtime) -> tuple[int, bytes]:
    answer = await _check(request, runtime)
    runtime.status_answers.put(STATUS_KEY, answer)
    return answer


async def _check(request: Request, runtime: Runtime) -> tuple[int, bytes]:
    try:
        async with runtime.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure to reach the database is what this probe reports
        database = "unavailable"
    advisories = await _advisories(runtime) if database == "ok" else "unavailable"
    worker = await _worker_state(request, runtime, database == "ok")
    overall = "ok" if database == "ok" else "unavailable"
    body = StatusResponse(
        status=overall,
        version=__version__,
        time=runtime.clock().replace(microsecond=0),
        checks=StatusChecks(database=database, worker=worker, advisories=advisories),
    )
    return 200 if overall == "ok" else 503, body.model_dump_json(by_alias=True).encode()


async def _advisories(runtime: Runtime) -> str:
    try:
        async with runtime.db.sessions() as session:
            return "ok" if await AdvisoryService(session).any_imported() else "empty"
    except Exception:  # the probe reports, it does not fail
        return "unavailable"


async def _worker_state(request: Request, runtime: Runtime, database_ok: bool) -> str:
    in_process = getattr(request.app.state, "worker", None)
    if in_process is not None and in_process.running:
        return "running"
    if not database_ok:
        return "unknown"
    try:
        async with runtime.db.sessions() as session:
            return await worker_state(session, runtime.clock())
    except Exception:  # the probe reports; it does not fail
        return "unknown"
