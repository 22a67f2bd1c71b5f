import re
import uuid

# The canonical form `new_id` writes: lower-case hex, hyphenated.
ID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID = re.compile(ID_TEXT)


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    """True for an id in the canonical form `new_id` writes; anything else names no row."""
    return _ID.fullmatch(value) is not None
