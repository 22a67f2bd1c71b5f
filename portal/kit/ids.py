import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    """True for an id in the canonical form `new_id` writes; anything else names no row."""
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
