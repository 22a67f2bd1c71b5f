"""What a request needs to know about its caller, kept briefly in memory.

An authenticated request would otherwise read the user and tenant on every call, which alone caps the
API near a thousand requests a second on SQLite. Entries live `auth_cache_seconds`; a change made in this
process forgets the entry at once, one made by another process (the command line) is seen within the TTL.
"""

import time
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

    def get(self, user_id: str, ttl_seconds: float) -> Principal | None:
        entry = self._entries.get(user_id)
        if entry is None or time.monotonic() - entry[0] > ttl_seconds:
            return None
        return entry[1]

    def put(self, principal: Principal) -> None:
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[principal.user_id] = (time.monotonic(), principal)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)


principal_cache = PrincipalCache()
