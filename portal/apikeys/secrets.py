"""API key secrets: `ptk_` and 32 random bytes, kept as a SHA-256 digest (`portal.kit.secret_tokens` says
why)."""

import re

PREFIX = "ptk_"
SHOWN_PREFIX_LENGTH = len(PREFIX) + 8
# the 32 random bytes (`portal.kit.secret_tokens`) are 43 characters of [A-Za-z0-9_-]
_SHAPE = re.compile(r"^ptk_[A-Za-z0-9_-]{43}$")


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(PREFIX)


def well_formed(credential: str) -> bool:
    return _SHAPE.fullmatch(credential) is not None
