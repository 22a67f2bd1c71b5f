"""argon2id hashing off the event loop, a bounded number at a time, with a dummy verification for
unknown users."""

from collections.abc import Iterator
from contextlib import contextmanager

import anyio.to_thread
import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 1


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, max_concurrent: int = 4) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )
        self._dummy_hash: str | None = None
        # Each check costs its memory cost (64 MiB by default) and a core for a quarter second: a flood of
        # logins queued behind each other would take the process's memory and every request's latency.
        self._max_concurrent = max_concurrent
        self._running = 0

    @contextmanager
    def checking(self) -> Iterator[None]:
        """Holds one of the process's password-check slots, or refuses at once when none is free."""
        if self._running >= self._max_concurrent:
            raise ServiceUnavailable(
                "Too many sign-ins at once; retry in a second.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1

    async def hash(self, password: str) -> str:
        with self.checking():
            return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        with self.checking():
            return await anyio.to_thread.run_sync(self._verify, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        await self.verify(await self.prepare(), password)

    async def prepare(self) -> str:
        """A real hash with the current parameters, so that an unknown user costs what a known one does.
        Made when the API starts, not when a command that checks no password builds its runtime."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("portal-timing-equaliser")
        return self._dummy_hash

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
