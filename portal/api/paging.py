"""The `limit` and `cursor` query parameters of the API's lists (the paging itself is kit.pagination)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Query

from portal.kit.pagination import BY_NAME, BY_TIME, DEFAULT_LIMIT, MAX_LIMIT, CursorGrammar, PageParams


def page_params(grammar: CursorGrammar) -> Callable[..., Awaitable[PageParams]]:
    """The `limit` and `cursor` query parameters of a list whose cursors follow `grammar`."""

    # async, though it awaits nothing: FastAPI runs a plain function dependency in a worker thread.
    async def params(
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="Items per page (at most 200).")
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                pattern=grammar.pattern,
                max_length=grammar.max_length,
                description="The `nextCursor` of the previous page; leave it out for the first page.",
            ),
        ] = None,
    ) -> PageParams:
        return PageParams(limit=limit, cursor=cursor)

    return params


TimePaging = page_params(BY_TIME)
NamePaging = page_params(BY_NAME)
