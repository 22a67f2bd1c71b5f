"""What a request needs to know about its caller, kept briefly in memory.

An authenticated request would otherwise read the user and tenant on every call, which alone caps the
API near a thousand requests a second on SQLite. The cache lives on the `Runtime`, one per process.

A change to who a caller is (an API key revoked; a user's role, active state or password changed) marks
the read cache's `IDENTITIES` topic in its transaction (`kit.readcache.changed`). Every lookup first asks
the read cache for that topic's revision (`current_identities`); a new one forgets every user and key
this process remembers. So such a change is seen at once by the process that made it, as soon as its
NOTIFY arrives by every other process on PostgreSQL, and within `PORTAL_READ_CACHE_SECONDS` otherwise;
entries never live longer than `auth_cache_seconds` in any case.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from portal.auth.actor import Actor
from portal.kit.readcache import IDENTITIES

if TYPE_CHECKING:
    from portal.runtime import Runtime

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 100_000


class LoadOnceCache(Generic[K, V]):
    """A dict of recent answers that loads a missing one once, however many requests wait for it."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}
        # Bumped by `clear`: an answer loaded from before it must not be put back.
        self.generation = 0

    def get(self, key: K, ttl_seconds: float, refresh: Callable[[], Awaitable[V]] | None = None) -> V | None:
        """The answer kept for `key` if younger than `ttl_seconds`. Past half that age, `refresh` (which
        puts its answer) starts in the background while this one is served: under steady use the answer
        is renewed before it expires, and no caller waits for the database at the moment it does."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age > ttl_seconds:
            return None
        if refresh is not None and age > ttl_seconds / 2 and key not in self._loading:
            self._start(key, refresh)
        return entry[1]

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        """Keeps `value`; with the `generation` read before loading it, only if nothing cleared since."""
        if generation is not None and generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)

    async def load_once(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        pending = self._loading.get(key) or self._start(key, load)
        return await asyncio.shield(pending)

    def _start(self, key: K, load: Callable[[], Awaitable[V]]) -> "asyncio.Future[V]":
        pending = asyncio.ensure_future(load())
        self._loading[key] = pending
        pending.add_done_callback(lambda done: self._done_loading(key, done))
        return pending

    def _done_loading(self, key: K, done: "asyncio.Future[V]") -> None:
        if self._loading.get(key) is done:  # a load begun after a `clear` may have taken its place
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # a refresh nobody waited for failed: the next caller loads (and sees) it

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forgets everything; a load under way serves only those already waiting for it."""
        self._entries.clear()
        self._loading.clear()
        self.generation += 1


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
        self._revision: int | None = None

    def follow(self, revision: int) -> None:
        """`revision` is the `IDENTITIES` topic's as this process now knows it: a new one means some
        user or key changed since the entries were loaded, so all of them go."""
        if revision == self._revision:
            return
        self._revision = revision
        self.users.clear()
        self.api_keys.clear()
        self._keys_of_owner.clear()

    def forget_user(self, user_id: str) -> None:
        """The user changed: forget it, and the keys it owns (they act with its role and state)."""
        self.users.forget(user_id)
        for secret_hash in self._keys_of_owner.pop(user_id, set()):
            self.api_keys.forget(secret_hash)

    def remember_api_key(
        self, secret_hash: str, owner_id: str, cached: CachedApiKey, generation: int | None = None
    ) -> None:
        if generation is not None and generation != self.api_keys.generation:
            return
        self.api_keys.put(secret_hash, cached)
        self._keys_of_owner.setdefault(owner_id, set()).add(secret_hash)

    def forget_api_key(self, secret_hash: str) -> None:
        self.api_keys.forget(secret_hash)


async def current_identities(runtime: "Runtime") -> IdentityCache:
    """This process's identity cache, rid of what a change committed since (here, or heard of) made stale.
    Costs nothing while the read cache's revisions are fresh, one small shared query otherwise."""
    (revision,) = await runtime.read_cache.revisions((IDENTITIES,))
    runtime.identities.follow(revision)
    return runtime.identities
