"""Secrets the portal hands out once and keeps only as a SHA-256 digest: API keys, refresh tokens, browser
session cookies and activation tokens.

Why SHA-256 and not argon2 as for passwords: a password is guessable, so its hash must be slow to make
guessing slow. These secrets are 256 random bits; nobody can guess one, however fast the hash, so a slow
hash would only slow down every request that presents one (argon2 costs tens of milliseconds and 64 MiB;
SHA-256 costs a microsecond). The digest also serves as the lookup key: a request finds its row by one
indexed equality, never by comparing secrets one by one. A stolen database gives digests from which no
secret can be recovered.
"""

import hashlib
import secrets

SECRET_BYTES = 32


def new_secret_token(prefix: str = "") -> tuple[str, str]:
    """(the token to hand over, its digest to store): `prefix` and 32 random bytes, URL-safe."""
    token = prefix + secrets.token_urlsafe(SECRET_BYTES)
    return token, secret_digest(token)


def secret_digest(token: str) -> str:
    """What is stored of a token, and what a presented one is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()
