"""What a request needs to know about its caller, kept briefly in memory.

An authenticated request would otherwise read the user and tenant on every call, which alone caps the
API near a thousand requests a second on SQLite. Entries live `auth_cache_seconds`; a change made in this
process forgets the entry at once, one made by another process (the command line) is seen within the TTL.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from portal.users.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    email: str
    role: Role
    active: bool
    tenant_id: str
    tenant_slug: str
    tenant_name: str


class PrincipalCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._loading: dict[str, asyncio.Future[Principal]] = {}

    def get(self, user_id: str, ttl_seconds: float) -> Principal | None:
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > ttl_seconds:
            return None
        return entry[1]

    def put(self, principal: Principal) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[principal.user_id] = (time.monotonic(), principal)

    async def load_once(self, user_id: str, load: Callable[[], Awaitable[Principal]]) -> Principal:
        """Loads an expired entry once, however many requests of that user are waiting for it."""
        pending = self._loading.get(user_id)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._loading[user_id] = pending
            pending.add_done_callback(lambda _done: self._loading.pop(user_id, None))
        return await asyncio.shield(pending)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)


principal_cache = PrincipalCache()
