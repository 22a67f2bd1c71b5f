"""Secrets the portal must be able to read back (webhook signing secrets), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the keys of `PORTAL_ENCRYPTION_KEY`:
the first key encrypts, every key listed decrypts, so keys can be rotated without a moment when stored
secrets cannot be read (`portal secrets rotate` re-encrypts them all under the first key).
"""

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretUnreadable(RuntimeError):
    """A stored secret that no configured key decrypts (a key was dropped too early, or changed)."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as error:
            raise ValueError(
                "PORTAL_ENCRYPTION_KEY must list Fernet keys (32 url-safe base64-encoded bytes each); "
                "make one with `portal secrets new-key`"
            ) from error

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def decrypt(self, stored: str) -> str:
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured encryption key decrypts a stored secret") from None

    def reencrypt(self, stored: str) -> str:
        """The same secret under the first key."""
        try:
            return self._fernet.rotate(stored.encode()).decode("ascii")
        except InvalidToken:
            raise SecretUnreadable("no configured encryption key decrypts a stored secret") from None


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")
