"""API key secrets: `ptk_` and 32 random bytes, kept as a SHA-256 digest.

Why SHA-256 and not argon2 as for passwords: a password is guessable, so its hash must be slow to make
guessing slow. A key's secret is 256 random bits; nobody can guess it, however fast the hash, so a
slow hash would only slow down every request the key makes (argon2 costs tens of milliseconds and 64
MiB; SHA-256 costs a microsecond). The digest also serves as the lookup key: a request finds its key by
one indexed equality, never by comparing secrets one by one. A stolen database gives digests from which
no key can be recovered.
"""

import hashlib
import re
import secrets

PREFIX = "ptk_"
SECRET_BYTES = 32
SHOWN_PREFIX_LENGTH = len(PREFIX) + 8
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]
_SHAPE = re.compile(r"^ptk_[A-Za-z0-9_-]{43}$")


def new_api_key() -> tuple[str, str]:
    """(the secret to show once, its digest to store)"""
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    return secret, digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(PREFIX)


def well_formed(credential: str) -> bool:
    return _SHAPE.fullmatch(credential) is not None
