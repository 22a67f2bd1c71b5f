"""PostgreSQL going away mid-request (shutting down, starting up, a backend terminated by the
administrator) is a 503 the client may retry, not a 500."""

import asyncio

import asyncpg
import httpx
import pytest

from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller

REQUEST = {"type": "feature", "title": "More images", "description": "please"}


async def _on_insert(database_url: str, body: str) -> None:
    """A trigger on feature_requests that makes the server answer the request's insert as `body` says."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            f"CREATE OR REPLACE FUNCTION portal_test_outage() RETURNS trigger AS $$ BEGIN {body} "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        await connection.execute(
            "CREATE OR REPLACE TRIGGER portal_test_outage BEFORE INSERT ON feature_requests "
            "FOR EACH ROW EXECUTE FUNCTION portal_test_outage()"
        )
    finally:
        await connection.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    "outage",
    [
        # The real thing: the backend serving the request is terminated (SQLSTATE 57P01).
        "PERFORM pg_terminate_backend(pg_backend_pid());",
        "RAISE EXCEPTION 'the database system is shutting down' USING ERRCODE = '57P03';",
        "RAISE EXCEPTION 'the database system is starting up' USING ERRCODE = '57P03';",
        "RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01';",
    ],
    ids=["backend-terminated", "shutting-down", "starting-up", "admin-shutdown"],
)
async def test_the_database_going_away_answers_503(
    runtime: Runtime, client: httpx.AsyncClient, database_url: str, outage: str
) -> None:
    caller = await make_caller(runtime, client, Role.USER)
    await _on_insert(database_url, outage)
    answer = await client.post("/api/feature-requests", headers=caller.headers, json=REQUEST)
    assert (answer.status_code, answer.json()["error"]) == (503, "SERVICE_UNAVAILABLE"), answer.text
    await _on_insert(database_url, "")
    # The pool recovers: the next request is served.
    again = await client.post("/api/feature-requests", headers=caller.headers, json=REQUEST)
    assert again.status_code == 201


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_cached_read_answers_503_when_its_query_is_cancelled(
    runtime: Runtime, client: httpx.AsyncClient, database_url: str
) -> None:
    """A repeated read is answered ahead of the framework (portal.api.cached_reads); a database error
    met there (the read cache's revisions query, cancelled by the administrator: SQLSTATE 57014) is still
    the app's 503."""
    caller = await make_caller(runtime, client, Role.USER)
    assert (await client.get("/api/docker-images", headers=caller.headers)).status_code == 200
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        locked = admin.transaction()
        await locked.start()
        await admin.execute("LOCK TABLE cache_revisions IN ACCESS EXCLUSIVE MODE")
        runtime.read_cache.expire()  # as a notification of another process's change does
        reading = asyncio.ensure_future(client.get("/api/docker-images", headers=caller.headers))
        waiting = (
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        async with asyncio.timeout(10):
            while not (pids := [row["pid"] for row in await admin.fetch(waiting)]):  # noqa: ASYNC110 (polls the server)
                await asyncio.sleep(0.02)
        for pid in pids:
            await admin.execute("SELECT pg_cancel_backend($1)", pid)
        answer = await reading
        await locked.rollback()
    finally:
        await admin.close()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "SERVICE_UNAVAILABLE"
    assert (await client.get("/api/docker-images", headers=caller.headers)).status_code == 200
