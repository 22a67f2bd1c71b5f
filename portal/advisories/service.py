"""Importing advisories (OSV records, and NVD CVE records for their severity): an upsert by id and
`modified`, many rows per statement, then the alias groups the changed records touch are formed again.

The record is kept without its prose and links (details, references, credits); what a scan matches
against is derived from it here, once, as each package's compact matching document.
A record whose `modified` is newer than the stored one replaces it; the same or an older one is left
alone, so re-importing a feed is cheap and idempotent. A withdrawn advisory is kept (earlier scans name it)
without package rows, so no scan loads it again. A malformed record is reported and skipped.
"""

import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.grouping import GroupRating, build_groups
from portal.advisories.repository import AdvisoryRepository
from portal.kit.clock import Clock, rfc3339, utcnow
from portal.kit.imports import ImportCounts, ImportFailure
from portal.vulns import Advisory, AdvisoryError, package_documents, parse_advisory
from portal.vulns.nvd import is_nvd_record, nvd_records, parse_nvd
from portal.vulns.osv import SourceItem, iter_osv_source

# Bumped when the import derives more from a record than before: stored records of an older derivation
# count as changed on their next import, so they are derived again.
DERIVATION = 1

_BATCH = 1000
_MAX_ID = 200
_MAX_NAME = 500

Progress = Callable[[int], None]


@dataclass
class ImportReport(ImportCounts):
    withdrawn: int = 0
    # (ecosystem, name) of every package the changed records name, or named before they changed, or that
    # another record of a group they touched names: the packages whose versions a rescan may change.
    changed_packages: set[tuple[str, str]] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "withdrawn": self.withdrawn}


@dataclass(frozen=True)
class FeedState:
    count: int
    newest: datetime | None

    @property
    def version(self) -> str:
        """Changes whenever an import adds, updates or withdraws an advisory (the newest import time of
        a stored record, and how many there are), so two scans with the same one saw the same advisories."""
        return f"{rfc3339(self.newest) if self.newest else 'empty'}/{self.count}"


@dataclass
class VulnerabilityFacts:
    """What a scan needs beyond the matching documents: each matched record's group and own rating
    (id -> (group id, severity, cvss score, vector, version)), and each group."""

    records: dict[str, tuple[Any, ...]]
    groups: dict[str, GroupRating]


def _readable(path: Path) -> Iterator[SourceItem]:
    """A source's records, each named by where it came from. A source that breaks while it is read (a
    corrupt zip, an unreadable file) ends with one failure naming it; what was read before still counts."""
    several = path.is_dir() or zipfile.is_zipfile(path)
    try:
        for name, item in iter_osv_source(path):
            yield (f"{path}:{name}" if several else str(path), item)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        yield str(path), AdvisoryError(f"cannot read the source: {exc}")


def count_records(path: Path) -> int:
    """How many files a source holds: the progress bar's total (a file may hold a list of records)."""
    if path.is_dir():
        return sum(1 for file in path.rglob("*.json") if file.is_file())
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return sum(1 for info in archive.infolist() if info.filename.endswith(".json"))
        except zipfile.BadZipFile:
            return 1  # the import reports it
    return 1


@dataclass
class _Pending:
    source: str
    advisory: Advisory
    record: dict[str, Any]


class AdvisoryService:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.repository = AdvisoryRepository(session)
        self.clock = clock
        self._changed: set[str] = set()
        self._previous_groups: set[str] = set()
        self._stamp = clock()

    async def import_sources(self, paths: Iterable[Path], progress: Progress | None = None) -> ImportReport:
        report = ImportReport()
        await self._begin()
        for path in paths:
            if not path.exists():
                report.failures.append(ImportFailure(str(path), "no such file or folder"))
                continue
            await self._import(_readable(path), report, progress)
        await self._regroup(report)
        return report

    async def import_records(self, records: Iterable[tuple[str, dict[str, Any]]]) -> ImportReport:
        """Records already decoded, each with the source to name when it fails (for data that ships as
        package resources rather than files)."""
        report = ImportReport()
        await self._begin()
        await self._import(records, report, None)
        await self._regroup(report)
        return report

    async def _begin(self) -> None:
        """Holds the import lock and stamps the import: every record it stores and group it forms bears
        one time, later than any earlier import's even when the clock is not (`changed_since`)."""
        await self.repository.hold_imports()
        last = await self.repository.last_change()
        self._stamp = self.clock() if last is None else max(self.clock(), last + timedelta(microseconds=1))

    async def feed_state(self) -> FeedState:
        count, newest = await self.repository.feed_state()
        return FeedState(count, newest)

    async def any_imported(self) -> bool:
        return await self.repository.any_imported()

    async def last_change(self) -> datetime | None:
        """When an import last stored or regrouped an advisory (None before any)."""
        return await self.repository.last_change()

    async def changed_since(self, since: datetime) -> tuple[set[str], set[tuple[str, str]]]:
        """The advisories stored or regrouped after `since` (see `last_change`), and the
        packages they name now: what a matcher made from the advisories as they were then must load
        again (with the packages it still holds them for, which they may no longer name)."""
        changed = await self.repository.changed_since(since)
        return changed, await self.repository.package_keys(sorted(changed))

    async def package_documents(
        self, keys: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str, str, list[Any]]]:
        """(advisory id, ecosystem, name, matching document) of every advisory naming one of the keys."""
        return await self.repository.package_documents(keys)

    async def vulnerability_facts(self, advisory_ids: Sequence[str]) -> VulnerabilityFacts:
        records = await self.repository.facts(advisory_ids)
        groups = await self.repository.group_ratings(sorted({f[0] for f in records.values() if f[0]}))
        return VulnerabilityFacts(records, groups)

    async def alias_groups(self, identifiers: Sequence[str]) -> set[str]:
        """The (upper-case) identifiers and every other id of the vulnerabilities they name."""
        wanted = {i.upper() for i in identifiers}
        return wanted | await self.repository.group_identifiers(sorted(wanted))

    async def known_as(self, identifiers: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        """identifier (upper case) -> [(advisory id, withdrawn)] of every advisory known by it."""
        return await self.repository.known_as(identifiers)

    async def _import(
        self,
        records: Iterable[SourceItem],
        report: ImportReport,
        progress: Progress | None,
    ) -> None:
        pending: list[_Pending] = []
        for source, item in records:
            for label, record, parsed in _parsed_records(source, item):
                if isinstance(parsed, AdvisoryError):
                    report.failures.append(ImportFailure(label, str(parsed)))
                else:
                    pending.append(_Pending(label, parsed, record))
            if progress is not None:
                progress(1)
            if len(pending) >= _BATCH:
                await self._store(pending, report)
                pending = []
        await self._store(pending, report)

    async def _store(self, pending: list[_Pending], report: ImportReport) -> None:
        if not pending:
            return
        # the same id twice in one batch: the newer record is the one that counts
        newest: dict[str, _Pending] = {}
        for entry in pending:
            kept = newest.get(entry.advisory.id)
            if kept is None or entry.advisory.modified > kept.advisory.modified:
                if kept is not None:
                    report.unchanged += 1
                newest[entry.advisory.id] = entry
            else:
                report.unchanged += 1
        stored = await self.repository.modified_by_id(sorted(newest))
        changed: list[_Pending] = []
        replaced: list[str] = []
        for advisory_id, entry in newest.items():
            previous = stored.get(advisory_id)
            if previous is not None and entry.advisory.modified <= previous[0] and previous[1] >= DERIVATION:
                report.unchanged += 1
                continue
            if previous is None:
                report.imported += 1
            else:
                report.updated += 1
                replaced.append(advisory_id)
            if entry.advisory.withdrawn is not None:
                report.withdrawn += 1
            changed.append(entry)
        # what the replaced records named and were grouped with is what their change may undo
        report.changed_packages |= await self.repository.package_keys(replaced)
        self._previous_groups |= {group for _, group, _ in await self.repository.members(replaced) if group}
        self._changed |= {entry.advisory.id for entry in changed}
        await self.repository.remove(replaced)
        now = self._stamp
        advisories: list[dict[str, Any]] = []
        packages: list[dict[str, Any]] = []
        aliases: list[dict[str, Any]] = []
        for entry in changed:
            advisory = entry.advisory
            advisories.append(
                {
                    "id": advisory.id,
                    "modified": advisory.modified,
                    "published": advisory.published,
                    "withdrawn": advisory.withdrawn,
                    "aliases": list(advisory.aliases),
                    "summary": advisory.summary,
                    "severity": advisory.severity,
                    "cvss_score": advisory.cvss_score,
                    "cvss_vector": advisory.cvss_vector,
                    "cvss_version": advisory.cvss_version,
                    "source": advisory.source,
                    "derivation": DERIVATION,
                    "vulnerability_id": None,
                    "record": _matching_record(entry.record),
                    "imported_at": now,
                }
            )
            identifiers = {i.strip().upper() for i in (advisory.id, *advisory.aliases) if i.strip()}
            aliases.extend(
                {"identifier": i, "advisory_id": advisory.id}
                for i in sorted(identifiers)
                if len(i) <= _MAX_ID
            )
            documents = package_documents(advisory)  # none when withdrawn
            packages.extend(
                {"advisory_id": advisory.id, "ecosystem": ecosystem, "name": name, "matching": document}
                for (ecosystem, name), document in sorted(documents.items())
                if len(name) <= _MAX_NAME
            )
        await self.repository.insert(advisories, packages, aliases)

    async def _regroup(self, report: ImportReport) -> None:
        """Forms again every alias group a changed record is in, was in, or now links to."""
        if not self._changed:
            return
        seen: set[str] = set()
        frontier = set(self._changed) | await self.repository.in_groups(sorted(self._previous_groups))
        members = []
        while frontier:
            found = await self.repository.members(sorted(frontier))
            seen |= frontier
            members.extend(found)
            identifiers = {
                i.strip().upper()
                for member, _, withdrawn in found
                if not withdrawn
                for i in member.identifiers
            }
            linked = await self.repository.known_by(sorted(identifiers))
            linked |= await self.repository.in_groups(sorted({group for _, group, _ in found if group}))
            frontier = linked - seen
        formed = build_groups([member for member, _, withdrawn in members if not withdrawn])
        previous = {group for _, group, _ in members if group} | self._previous_groups
        await self.repository.replace_groups(
            formed,
            ungrouped=[member.id for member, _, withdrawn in members if withdrawn],
            gone=sorted(previous - {g.id for g in formed}),
            now=self._stamp,
        )
        report.changed_packages |= await self.repository.package_keys([m.id for m, _, _ in members])
        self._changed.clear()
        self._previous_groups.clear()


def _parsed_records(
    source: str, item: dict[str, Any] | AdvisoryError
) -> Iterator[tuple[str, dict[str, Any], Advisory | AdvisoryError]]:
    """(label, record, parsed) of each record a decoded file holds: one OSV record, or NVD CVE records."""
    if isinstance(item, AdvisoryError):
        yield source, {}, item
        return
    if not is_nvd_record(item):
        yield source, item, _parsed(item)
        return
    for index, record in enumerate(nvd_records(item)):
        label = source if index == 0 else f"{source}[{index}]"
        try:
            parsed: Advisory | AdvisoryError = parse_nvd(record)
        except AdvisoryError as error:
            parsed = error
        yield label, record if isinstance(record, dict) else {}, parsed


def _parsed(item: dict[str, Any]) -> Advisory | AdvisoryError:
    try:
        advisory = parse_advisory(item)
    except AdvisoryError as error:
        return error
    if len(advisory.id) > _MAX_ID:
        return AdvisoryError(f"id is longer than {_MAX_ID} characters", advisory.id[:_MAX_ID])
    return advisory


# Prose and links make up most of a record and nothing reads them back (NVD's CPE configurations neither).
_UNREAD_FIELDS = frozenset({"details", "references", "credits", "descriptions", "configurations"})


def _matching_record(record: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in record.items() if key not in _UNREAD_FIELDS}
    affected = kept.get("affected")
    if isinstance(affected, list):
        kept["affected"] = [
            {key: value for key, value in entry.items() if key != "database_specific"}
            if isinstance(entry, dict)
            else entry
            for entry in affected
        ]
    return kept
