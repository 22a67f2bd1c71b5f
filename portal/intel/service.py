"""Importing KEV and EPSS, and the exploitation signals of a set of CVEs for the findings that name them.

Each import is an upsert by CVE id in the caller's transaction: importing the same file twice changes
nothing; a malformed entry is reported and skipped; a file of the wrong shape is refused and stores nothing.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from portal.intel.feeds import BadEntry, EpssRow, KevRow, read_epss, read_kev
from portal.intel.models import EpssScore, KevEntry
from portal.intel.repository import IntelRepository
from portal.kit.clock import Clock, utcnow
from portal.kit.imports import ImportCounts, ImportFailure
from portal.kit.readcache import INTEL, changed

Progress = Callable[[int], None]
RowT = TypeVar("RowT", KevRow, EpssRow)
_BATCH = 5000


@dataclass(frozen=True)
class Signals:
    """The exploitation signals of some CVEs: CVE id -> its KEV entry, its EPSS score."""

    kev: dict[str, KevEntry]
    epss: dict[str, EpssScore]


class IntelService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.repository = IntelRepository(session)
        self.clock = clock

    async def import_kev(self, path: Path, progress: Progress | None = None) -> ImportCounts:
        """CISA's catalog JSON, as it publishes it. Raises FeedRefused for a file of another shape."""
        return await self._import(KevEntry, read_kev(path), progress)

    async def import_epss(self, path: Path, progress: Progress | None = None) -> ImportCounts:
        """FIRST's CSV, gzipped or not. Raises FeedRefused for a file of another shape."""
        return await self._import(EpssScore, read_epss(path), progress)

    async def signals(self, cve_ids: Iterable[str]) -> Signals:
        wanted = sorted({cve.upper() for cve in cve_ids})
        return Signals(await self.repository.kev(wanted), await self.repository.epss(wanted))

    async def kev_listed(self, cve_ids: Iterable[str]) -> set[str]:
        """Those of these CVE ids (upper-cased) in the KEV catalog as imported now."""
        wanted = sorted({cve.upper() for cve in cve_ids})
        return set(await self.repository.kev(wanted)) if wanted else set()

    async def kev_ids(self) -> frozenset[str]:
        """Every CVE id in the KEV catalog (about a thousand: cheaper read whole than asked for by id)."""
        return await self.repository.kev_ids()

    async def epss_scores(self, cve_ids: Iterable[str]) -> dict[str, float]:
        """CVE id -> its EPSS score, for those of these (upper-case) ids that have one."""
        return await self.repository.epss_scores(sorted(set(cve_ids)))

    async def _import(
        self,
        model: type[KevEntry] | type[EpssScore],
        entries: Iterator[KevRow | EpssRow | BadEntry],
        progress: Progress | None,
    ) -> ImportCounts:
        report = ImportCounts()
        now = self.clock()
        batch: dict[str, dict[str, Any]] = {}

        async def flush() -> None:
            rows = list(batch.values())
            inserted, updated = await self.repository.upsert(model, rows, now)
            if inserted or updated:
                changed(self.session, INTEL)  # scans' KEV counts are cached (kit.readcache)
            report.imported += inserted
            report.updated += updated
            report.unchanged += len(rows) - inserted - updated
            batch.clear()

        for entry in entries:  # reading raises FeedRefused before anything is stored
            if isinstance(entry, BadEntry):
                report.failures.append(ImportFailure(entry.where, entry.reason))
            else:
                # the same CVE twice in one file: the later line is the one that counts
                batch[entry.cve_id] = asdict(entry)
            if progress is not None:
                progress(1)
            if len(batch) >= _BATCH:
                await flush()
        if batch:
            await flush()
        return report
