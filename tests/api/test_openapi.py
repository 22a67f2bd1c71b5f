"""The OpenAPI document declares every error a route can answer, in the one error shape."""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from portal.app import create_app
from tests.conftest import make_settings

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The document needs no database; one app is enough (the shared fixture runs on both)."""
    return create_app(make_settings(tmp_path, "sqlite+aiosqlite:///:memory:"))


def _operations(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]


async def test_every_route_that_reads_the_database_declares_503(app: FastAPI) -> None:
    for label, operation in _operations(app):
        if label == "GET /api/status":
            continue  # its 503 is the status body itself
        if any(p["name"] == "X-Tenant" for p in operation.get("parameters", [])):
            assert "503" in operation["responses"], label
            schema = operation["responses"]["503"]["content"]["application/json"]["schema"]
            assert schema == ERROR_BODY, label


async def test_rate_limited_answers_document_retry_after(app: FastAPI) -> None:
    limited = [(label, op) for label, op in _operations(app) if "429" in op["responses"]]
    assert {label for label, _ in limited} >= {"POST /api/auth/login", "POST /api/auth/refresh"}
    for label, operation in limited:
        headers = operation["responses"]["429"].get("headers", {})
        assert headers["Retry-After"]["schema"] == {"type": "integer"}, label


def test_every_free_text_field_of_a_body_states_that_nul_is_refused(app: FastAPI) -> None:
    for name, schema in app.openapi()["components"]["schemas"].items():
        if schema.get("additionalProperties") is not False:
            continue  # an answer, not a request body
        for field, definition in schema.get("properties", {}).items():
            for candidate in [definition, *definition.get("anyOf", [])]:
                if candidate.get("type") == "string" and not {"const", "enum"} & candidate.keys():
                    assert not re.fullmatch(candidate["pattern"], "a\x00bcd"), (name, field)
