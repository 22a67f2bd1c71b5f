"""Every error, the framework's own included, answers the one shape with the contract's codes."""

import base64
import json

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from portal.app import create_app
from portal.auth.guard import GuardedRoute
from portal.config import Settings
from portal.runtime import Runtime
from tests.conftest import client_for, make_settings
from tests.factories import make_caller


def _shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"error", "message", "details"}
    return body


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    _shape(await client.get("/api/nothing-here"), 404, "NOT_FOUND")
    _shape(await client.get("/api"), 404, "NOT_FOUND")  # outside /api the console answers pages
    response = await client.delete("/api/status")
    _shape(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_and_validation_details(client: httpx.AsyncClient) -> None:
    headers = {"X-Tenant": "acme", "Content-Type": "application/json"}
    body = _shape(
        await client.post("/api/auth/login", headers=headers, content=b"{nope"), 400, "VALIDATION_ERROR"
    )
    assert body["details"] == [{"path": [], "message": "JSON decode error", "code": "invalid_json"}]

    body = _shape(
        await client.post("/api/auth/login", headers=headers, json={"email": 5, "extra": True}),
        400,
        "VALIDATION_ERROR",
    )
    codes = {tuple(detail["path"]): detail["code"] for detail in body["details"]}  # type: ignore[union-attr]
    assert codes == {("email",): "invalid_type", ("password",): "required", ("extra",): "unknown_field"}


async def test_query_parameters_are_reported_with_their_location(runtime: Runtime, app: FastAPI) -> None:
    router = APIRouter(route_class=GuardedRoute)

    @router.get("/api/test-only/numbers")
    async def numbers(limit: int = 5) -> dict[str, int]:
        return {"limit": limit}

    app.include_router(router)
    caller = await make_caller(runtime, client_for(app))
    async with client_for(app) as client:
        body = _shape(
            await client.get("/api/test-only/numbers?limit=x", headers=caller.headers),
            400,
            "VALIDATION_ERROR",
        )
    assert body["details"] == [
        {"path": ["query", "limit"], "message": body["details"][0]["message"], "code": "invalid_type"}  # type: ignore[index]
    ]


async def test_wrong_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", headers={"X-Tenant": "acme", "Content-Type": "text/plain"}, content=b"hello"
    )
    _shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_body_over_one_mebibyte(client: httpx.AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'
    headers = {"X-Tenant": "acme", "Content-Type": "application/json"}
    _shape(await client.post("/api/auth/login", headers=headers, content=big), 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> object:
        for _ in range(20):
            yield b"x" * 65536

    _shape(await client.post("/api/auth/login", headers=headers, content=chunks()), 413, "PAYLOAD_TOO_LARGE")


async def test_unhandled_exception_leaks_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    router = APIRouter(route_class=GuardedRoute)

    @router.get("/api/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.include_router(router)
    caller = await make_caller(app.state.runtime, client)
    body = _shape(await client.get("/api/test-only/boom", headers=caller.headers), 500, "INTERNAL_ERROR")
    assert "hunter2" not in str(body) and "RuntimeError" not in str(body)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_database_unreachable_is_503(tmp_path: object, settings: Settings) -> None:
    unreachable = make_settings(
        settings.data_dir, "postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key=settings.secret_key
    )
    runtime = Runtime.build(unreachable, rate_limit_namespace="down")
    try:
        async with client_for(create_app(runtime=runtime)) as client:
            status = await client.get("/api/status")
            assert status.status_code == 503
            assert status.json()["status"] == "unavailable"
            assert status.json()["checks"]["database"] == "unavailable"
            login = await client.post(
                "/api/auth/login", headers={"X-Tenant": "acme"}, json={"email": "a@b.c", "password": "x"}
            )
            _shape(login, 503, "SERVICE_UNAVAILABLE")
    finally:
        await runtime.close()


async def test_status_is_public(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/status")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert body["time"].endswith("Z")
    assert response.headers["x-request-id"]


async def test_nul_characters_are_refused_before_they_reach_the_database(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    # PostgreSQL cannot store or compare a NUL in text: it would answer 500 there and not on SQLite.
    caller = await make_caller(runtime, client)
    login = await client.post(
        "/api/auth/login",
        headers={"X-Tenant": caller.tenant.slug},
        json={"email": "a\u0000@example.com", "password": "x"},
    )
    assert _shape(login, 400, "VALIDATION_ERROR")["details"] == [
        {"path": ["email"], "message": login.json()["details"][0]["message"], "code": "invalid_format"}
    ]
    request = await client.post(
        "/api/feature-requests",
        headers=caller.headers,
        json={"type": "feature", "title": "ab\u0000c", "description": "x"},
    )
    assert _shape(request, 400, "VALIDATION_ERROR")["details"][0]["path"] == ["title"]  # type: ignore[index]
    for name in ("q", "hardeningTag"):
        search = await client.get("/api/docker-images", headers=caller.headers, params={name: "a\u0000"})
        assert _shape(search, 400, "VALIDATION_ERROR")["details"][0]["path"] == ["query", name]  # type: ignore[index]
    _shape(await client.get("/api/feature-requests/a%00b", headers=caller.headers), 404, "NOT_FOUND")
    for path in ("/api/docker-images", "/api/feature-requests"):
        cursor = base64.urlsafe_b64encode(json.dumps(["a\u0000", "b"]).encode()).decode()
        paged = await client.get(path, headers=caller.headers, params={"cursor": cursor})
        assert _shape(paged, 400, "VALIDATION_ERROR")["details"][0]["path"] == ["query", "cursor"]  # type: ignore[index]


async def test_a_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    for path, allowed in (
        ("/api/webhooks", {"GET", "HEAD", "POST"}),
        ("/api/webhooks/0b6f7c1e-5d0a-4f43-9a53-8c1c2f8e1d22", {"GET", "HEAD", "PUT", "DELETE"}),
        ("/api/cve-watches", {"GET", "HEAD", "POST"}),
    ):
        answer = await client.request("PATCH", path)
        assert (answer.status_code, answer.json()["error"]) == (405, "METHOD_NOT_ALLOWED")
        assert set(answer.headers["allow"].split(", ")) == allowed, path
