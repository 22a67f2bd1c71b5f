import re
import uuid
from typing import Annotated

from fastapi import Path

# The canonical form `new_id` writes: lower-case hex, hyphenated.
ID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(ID_TEXT)

# An id in a URL path. Anything else names nothing (404) and never reaches a query, where PostgreSQL
# would fail on a NUL.
PathId = Annotated[
    str,
    Path(
        pattern=f"^{ID_TEXT}$",
        min_length=36,
        max_length=36,
        description="An id as the API writes it (a lower-case UUID).",
    ),
]


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    """True for an id in the canonical form `new_id` writes; anything else names no row."""
    return _ID.fullmatch(value) is not None
