import re
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.api.path_ids import PathId as PathId

# The canonical form `new_id` writes: lower-case hex, hyphenated.
ID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(ID_TEXT)


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    """True for an id in the canonical form `new_id` writes; anything else names no row."""
    return _ID.fullmatch(value) is not None


def __getattr__(name: str) -> object:
    # `PathId` moved to portal.api.path_ids (it needs FastAPI, which the models, and so every CLI command,
    # must not import); routes written against its old home still find it here, loaded only when asked.
    if name == "PathId":
        from portal.api.path_ids import PathId

        return PathId
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
