"""Keyset pagination, one helper for every list: `?limit=` (default 50, max 200) and `?cursor=`.

A list declares its order once as a `Keyset` (sort columns, the last one unique, and a direction);
`paginate` runs the statement for one page (limit + 1 rows, the slice, the next cursor). A cursor names
the position after the last row shown: its sort key, one field per column joined by `~`. Every field has
a grammar a JSON schema can state (`CursorGrammar.pattern`), and every string the grammar allows is a
position, so a client that follows the OpenAPI document never gets a cursor refused. Anything else
(a NUL, a lone surrogate, a cursor of another list) is an invalid cursor, a 400. The routes' query
parameters for it are `portal.api.paging`'s, so that the services never import FastAPI.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from portal.errors import ErrorDetail, ValidationFailed
from portal.kit.ids import ID_TEXT

ItemT = TypeVar("ItemT")
RowT = TypeVar("RowT")
NewT = TypeVar("NewT")
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SEPARATOR = "~"


class Page(BaseModel, Generic[ItemT]):
    """A page as the API answers it."""

    items: list[ItemT]
    next_cursor: str | None = Field(serialization_alias="nextCursor")


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Slice(Generic[ItemT]):
    """One page of a list as the services see it."""

    items: list[ItemT]
    next_cursor: str | None

    def map(self, convert: Callable[[ItemT], NewT]) -> "Slice[NewT]":
        return Slice([convert(item) for item in self.items], self.next_cursor)

    def replace(self, items: list[NewT]) -> "Slice[NewT]":
        return Slice(items, self.next_cursor)


@dataclass(frozen=True, slots=True)
class KeyKind:
    """One field of a cursor: its grammar, and how it reads and writes a sort key."""

    pattern: str
    max_length: int
    parse: Callable[[str], Any]
    format: Callable[[Any], str]


def _parse_time(text: str) -> datetime:
    return _EPOCH + int(text) * _MICROSECOND


def _format_time(moment: datetime) -> str:
    return str((moment - _EPOCH) // _MICROSECOND)


# Microseconds since the Unix epoch: every 16-digit number is a time (up to the year 2286).
TIME = KeyKind(r"[0-9]{1,16}", 16, _parse_time, _format_time)
# The canonical form `kit.ids.new_id` writes; compared as text, like the id columns.
ID = KeyKind(ID_TEXT, 36, str, str)
# An image name's characters (catalog.labels checks the full grammar when publishing).
NAME = KeyKind(r"[a-z0-9._/-]{1,200}", 200, str, str)


class CursorGrammar:
    """The cursors of lists that share the kinds of their sort keys."""

    def __init__(self, *kinds: KeyKind) -> None:
        self.kinds = kinds
        self.pattern = "^" + _SEPARATOR.join(kind.pattern for kind in kinds) + "$"
        self.max_length = sum(kind.max_length for kind in kinds) + len(kinds) - 1
        self._regex = re.compile(self.pattern)

    def encode(self, values: Sequence[Any]) -> str:
        return _SEPARATOR.join(kind.format(value) for kind, value in zip(self.kinds, values, strict=True))

    def decode(self, cursor: str) -> tuple[Any, ...]:
        if len(cursor) > self.max_length or not self._regex.fullmatch(cursor):
            raise invalid_cursor()
        return tuple(
            kind.parse(text) for kind, text in zip(self.kinds, cursor.split(_SEPARATOR), strict=True)
        )


BY_TIME = CursorGrammar(TIME, ID)
BY_NAME = CursorGrammar(NAME, ID)


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not valid; use the nextCursor of a previous page.",
        details=[ErrorDetail(path=["query", "cursor"], message="invalid cursor", code="invalid_format")],
    )


@dataclass(frozen=True)
class Keyset:
    """A list's order: sort columns of its first selected entity (the last column unique), one direction."""

    grammar: CursorGrammar
    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.grammar.kinds):
            raise ValueError("a keyset needs one cursor field per sort column")

    def ordering(self) -> list[ColumnElement[Any]]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows past `values` in this order: (a, b) > (x, y) spelled out, which every database indexes."""
        alternatives = []
        for index, column in enumerate(self.columns):
            equal = [self.columns[i] == values[i] for i in range(index)]
            past = column < values[index] if self.descending else column > values[index]
            alternatives.append(and_(*equal, past))
        return or_(*alternatives)

    def cursor_for(self, entity: object) -> str:
        return self.grammar.encode([getattr(entity, column.key) for column in self.columns])


async def paginate_scalars(
    session: AsyncSession, statement: Select[RowT], keyset: Keyset, page: PageParams
) -> Slice[RowT]:
    """One page of a statement that selects one entity."""
    rows = list((await session.execute(_page_statement(statement, keyset, page))).scalars())
    return _slice(rows, keyset, page, lambda row: row)


async def paginate_rows(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], keyset: Keyset, page: PageParams
) -> Slice[tuple[Any, ...]]:
    """One page of a statement that selects several entities; the keyset orders by the first."""
    rows = [tuple(row) for row in await session.execute(_page_statement(statement, keyset, page))]
    return _slice(rows, keyset, page, lambda row: row[0])


def _page_statement(statement: SelectT, keyset: Keyset, page: PageParams) -> SelectT:
    if page.cursor is not None:
        statement = statement.where(keyset.after(keyset.grammar.decode(page.cursor)))
    return statement.order_by(*keyset.ordering()).limit(page.limit + 1)


def _slice(rows: list[Any], keyset: Keyset, page: PageParams, entity: Callable[[Any], object]) -> Slice[Any]:
    items = rows[: page.limit]
    more = len(rows) > page.limit
    return Slice(items, keyset.cursor_for(entity(items[-1])) if more else None)


async def each_item(
    fetch: Callable[[PageParams], Awaitable[Slice[ItemT]]], *, at_most: int | None = None
) -> AsyncIterator[ItemT]:
    """The items of a list (its first `at_most`), page after page as the caller reads them."""
    taken = 0
    cursor: str | None = None
    while at_most is None or taken < at_most:
        limit = MAX_LIMIT if at_most is None else min(MAX_LIMIT, at_most - taken)
        found = await fetch(PageParams(limit=limit, cursor=cursor))
        for item in found.items:
            yield item
        taken += len(found.items)
        if found.next_cursor is None:
            return
        cursor = found.next_cursor


async def every_item(
    fetch: Callable[[PageParams], Awaitable[Slice[ItemT]]], *, at_most: int | None = None
) -> list[ItemT]:
    """Every item of a list (its first `at_most`), page after page (for the command line, which shows
    whole lists)."""
    return [item async for item in each_item(fetch, at_most=at_most)]
