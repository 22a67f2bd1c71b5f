"""Cursor pagination: `?limit=` (default 50, max 200) and an opaque `?cursor=`."""

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from portal.errors import ErrorDetail, ValidationFailed

ItemT = TypeVar("ItemT")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(serialization_alias="nextCursor")


class PageParams(BaseModel):
    limit: int
    cursor: list[Any] | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError as exc:
        raise invalid_cursor() from exc
    # A NUL would reach SQL, where PostgreSQL refuses it with an unhandled error.
    if not isinstance(values, list) or any(isinstance(v, str) and "\x00" in v for v in values):
        raise invalid_cursor()
    return values


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not valid; use the nextCursor of a previous page.",
        details=[ErrorDetail(path=["query", "cursor"], message="invalid cursor", code="invalid_format")],
    )


def time_cursor(values: list[Any]) -> tuple[datetime, str]:
    """The (time, id) position a list ordered by time then id wrote with `encode_cursor`. A naive time
    was made by hand, and a UTC column would refuse it with an unhandled error."""
    if len(values) == 2 and isinstance(values[0], str) and isinstance(values[1], str):
        try:
            at = datetime.fromisoformat(values[0])
        except ValueError:
            raise invalid_cursor() from None
        if at.tzinfo is not None:
            return at, values[1]
    raise invalid_cursor()


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=decode_cursor(cursor) if cursor else None)
