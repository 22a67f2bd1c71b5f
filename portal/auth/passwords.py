"""argon2id hashing off the event loop, with a dummy verification for unknown users."""

import anyio.to_thread
import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
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
