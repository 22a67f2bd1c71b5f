from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text

from portal import __version__
from portal.advisories.service import AdvisoryService
from portal.api.dependencies import RuntimeDep
from portal.api.openapi import error_responses
from portal.auth.guard import GuardedRoute, Public
from portal.kit.schema import ApiModel
from portal.runtime import Runtime

router = APIRouter(prefix="/api", tags=["status"], route_class=GuardedRoute)


class StatusChecks(ApiModel):
    database: Literal["ok", "unavailable"]
    worker: str
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
)
async def status(runtime: RuntimeDep, _public: Annotated[None, Depends(Public())]) -> JSONResponse:
    try:
        async with runtime.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure to reach the database is what this probe reports
        database = "unavailable"
    advisories = await _advisories(runtime) if database == "ok" else "unavailable"
    overall = "ok" if database == "ok" else "unavailable"
    body = StatusResponse(
        status=overall,
        version=__version__,
        time=runtime.clock().replace(microsecond=0),
        checks=StatusChecks(database=database, worker="not_configured", advisories=advisories),
    )
    return JSONResponse(
        body.model_dump(mode="json", by_alias=True), status_code=200 if overall == "ok" else 503
    )


async def _advisories(runtime: Runtime) -> str:
    try:
        async with runtime.db.sessions() as session:
            return "ok" if await AdvisoryService(session).any_imported() else "empty"
    except Exception:  # the probe reports, it does not fail
        return "unavailable"
