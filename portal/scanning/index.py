"""The matcher a worker keeps between scans, brought up to date with each import instead of made again.

Making a matcher is most of a scan's cost: reading and compiling the advisories of every package the
versions have, then matching and building each component's findings. An import changes few of them, so
before each batch the kept matcher asks which advisories were stored or regrouped since the advisories it
was made from (`AdvisoryService.changed_since`: their `imported_at`, their group's `updated_at`) and forgets
only their packages, old and new; the batch loads those again. Its findings are those a new matcher would
make (`tests/scanning/test_kept_matcher.py` compares them).

Imports are serialized and each bears one time later than the one before (`AdvisoryService._begin`), so
the import times a kept matcher reads grow in commit order and it never misses one.
"""

import asyncio

from portal.advisories.service import AdvisoryService
from portal.scanning.matching import Matcher


class KeptMatcher:
    """One per process (on `Runtime`), shared by its workers' batches, one batch at a time."""

    def __init__(self) -> None:
        self._matcher: Matcher | None = None
        self.lock = asyncio.Lock()

    async def current(self, advisories: AdvisoryService) -> Matcher:
        """The matcher for the advisories as they are now; call it holding `lock`, in the batch's
        transaction."""
        state = await advisories.feed_state()
        matcher = self._matcher
        if matcher is not None and matcher.feed_version == state.version:
            return matcher
        # read before the changes: one committed after it is seen by the next batch, not lost
        since = await advisories.last_change()
        if matcher is None or matcher.since is None:
            matcher = Matcher(state.version, since)
        else:
            changed, packages = await advisories.changed_since(matcher.since)
            matcher.forget(packages | matcher.index.packages_of(changed), changed)
            matcher.feed_version, matcher.since = state.version, since
        self._matcher = matcher
        return matcher
