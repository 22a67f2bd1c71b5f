"""What a request needs to know about its caller, kept briefly in memory.

An authenticated request would otherwise read the user and tenant on every call, which alone caps the
API near a thousand requests a second on SQLite. Entries live `auth_cache_seconds`; a change made in this
process forgets the entry at once, one made by another process (the command line) is seen within the TTL.
The cache lives on the `Runtime`, one per process.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from portal.auth.actor import Actor

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 100_000


class LoadOnceCache(Generic[K, V]):
    """A dict of recent answers that loads a missing one once, however many requests wait for it."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}

    def get(self, key: K, ttl_seconds: float) -> V | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > ttl_seconds:
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)

    async def load_once(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._loading[key] = pending
            pending.add_done_callback(lambda _done: self._loading.pop(key, None))
        return await asyncio.shield(pending)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True, slots=True)
class CachedUser:
    """A user as its access tokens act: the actor (without a request's origin) and whether it may."""

    actor: Actor
    active: bool


@dataclass(frozen=True, slots=True)
class CachedApiKey:
    """An API key as its requests act: the actor (its role already capped by its owner's) and whether
    it may act now."""

    actor: Actor
    expires_at: datetime
    revoked: bool
    owner_active: bool


class IdentityCache:
    def __init__(self) -> None:
        self.users: LoadOnceCache[str, CachedUser] = LoadOnceCache()
        # By the digest of the key's secret, the one thing a request presents.
        self.api_keys: LoadOnceCache[str, CachedApiKey] = LoadOnceCache()
        # Digests no key has: a key is never created with a digest seen before (its secret is new and
        # random), so a process may remember them long, and a flood of made-up keys reads nothing.
        self.unknown_api_keys: LoadOnceCache[str, bool] = LoadOnceCache()
        self._keys_of_owner: dict[str, set[str]] = {}
        # key id -> when this process last wrote the key's lastUsedAt (time.monotonic()).
        self.api_key_uses: dict[str, float] = {}

    def forget_user(self, user_id: str) -> None:
        """The user changed: forget it, and the keys it owns (they act with its role and state)."""
        self.users.forget(user_id)
        for secret_hash in self._keys_of_owner.pop(user_id, set()):
            self.api_keys.forget(secret_hash)

    def remember_api_key(self, secret_hash: str, owner_id: str, cached: CachedApiKey) -> None:
        self.api_keys.put(secret_hash, cached)
        self._keys_of_owner.setdefault(owner_id, set()).add(secret_hash)

    def forget_api_key(self, secret_hash: str) -> None:
        self.api_keys.forget(secret_hash)
