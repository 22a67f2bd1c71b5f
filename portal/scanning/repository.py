"""Every query on scans, findings and the package index. Scans belong to versions, which are the vendor's;
the queries that read for a tenant join its entitlement through `scoped` themselves (and the service asks
the catalog first, to tell an invisible version from an empty history)."""

import hashlib
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, and_, func, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog.models import Entitlement, ImageVersion
from portal.db import upsert_for
from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.readcache import SCANS, changed
from portal.kit.tenancy import scoped
from portal.scanning.findings import (
    FoundVulnerability,
    decode_findings,
    decode_ids,
    decode_line_ids,
)
from portal.scanning.models import FindingSet, Scan, VersionPackage

T = TypeVar("T")

_CHUNK = 500

SCAN_HISTORY_ORDER = Keyset(BY_TIME, (Scan.scanned_at, Scan.id), descending=True)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lock_key(version_id: str) -> int:
    # a signed 64-bit key per version for pg_advisory_xact_lock
    return int.from_bytes(
        hashlib.sha256(f"portal-scan:{version_id}".encode()).digest()[:8], "big", signed=True
    )


class ScanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _dialect(self) -> str:
        return str((await self.session.connection()).dialect.name)

    async def lock_versions(self, version_ids: Sequence[str]) -> None:
        """Holds every one of these versions for the caller's transaction, so two scans of a version never
        run at once: PostgreSQL advisory locks, taken in one order (no deadlock); on SQLite a first write,
        which takes the database's write lock before anything is read."""
        if await self._dialect() == "postgresql":
            for key in sorted({_lock_key(version_id) for version_id in version_ids}):
                await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        else:
            await self.session.execute(update(Scan).where(text("1 = 0")).values(id=Scan.id))

    async def insert(self, scans: list[dict[str, Any]], finding_sets: list[dict[str, Any]]) -> None:
        """The scans, and those of their finding sets not stored yet (another run may store the same set
        meanwhile: a set is content, so the first one stored stands)."""
        stored = await self.stored_finding_sets([row["digest"] for row in finding_sets])
        missing = [row for row in finding_sets if row["digest"] not in stored]
        if missing:
            upsert = upsert_for(await self._dialect())
            statement = upsert(cast(Table, FindingSet.__table__)).on_conflict_do_nothing(
                index_elements=["digest"]
            )
            for chunk in _chunks(missing, 50):
                await self.session.execute(statement, list(chunk))
        for chunk in _chunks(scans, 1000):
            await self.session.execute(insert(cast(Table, Scan.__table__)), list(chunk))
        if scans:
            changed(self.session, SCANS)  # what tenants read of scans is cached (kit.readcache)

    async def stored_finding_sets(self, digests: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(digests))):
            statement = select(FindingSet.digest).where(FindingSet.digest.in_(chunk))
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def latest_scans(self, version_ids: Sequence[str]) -> dict[str, Scan]:
        """version id -> its newest scan, for the versions that have one."""
        latest: dict[str, Scan] = {}
        for chunk in _chunks(version_ids):
            newest = (
                select(Scan.version_id, func.max(Scan.scanned_at).label("scanned_at"))
                .where(Scan.version_id.in_(chunk))
                .group_by(Scan.version_id)
                .subquery()
            )
            statement = (
                select(Scan)
                .join(
                    newest,
                    and_(Scan.version_id == newest.c.version_id, Scan.scanned_at == newest.c.scanned_at),
                )
                .order_by(Scan.id)
            )
            for scan in (await self.session.execute(statement)).scalars():
                latest.setdefault(scan.version_id, scan)
        return latest

    async def vulnerability_ids(self, digests: Sequence[str]) -> dict[str, list[str]]:
        """digest -> the vulnerability id of each finding of the set, in scan order."""
        found: dict[str, list[str]] = {}
        for chunk in _chunks(sorted(set(digests))):
            statement = select(FindingSet.digest, FindingSet.vulnerability_ids).where(
                FindingSet.digest.in_(chunk)
            )
            for digest, ids in await self.session.execute(statement):
                found[digest] = decode_ids(ids)
        return found

    async def line_ids(self, digests: Sequence[str]) -> dict[str, list[tuple[str, list[str]]]]:
        """digest -> (vulnerability id, CVE ids) of each finding of the set, in scan order."""
        found: dict[str, list[tuple[str, list[str]]]] = {}
        for chunk in _chunks(sorted(set(digests))):
            statement = select(FindingSet.digest, FindingSet.vulnerability_ids, FindingSet.cve_ids).where(
                FindingSet.digest.in_(chunk)
            )
            for digest, ids, cves in await self.session.execute(statement):
                found[digest] = decode_line_ids(ids, cves)
        return found

    async def findings(
        self, digests: Sequence[str], identifiers: AbstractSet[str] | None = None
    ) -> dict[str, list[FoundVulnerability]]:
        """digest -> the set's findings in scan order, or only those known as one of the (upper-case)
        identifiers by their vulnerability or CVE ids (a set that has none is not even opened)."""
        found: dict[str, list[FoundVulnerability]] = {}
        wanted = sorted(set(digests))
        lines: dict[str, set[int]] | None = None
        if identifiers is not None:
            lines = {}
            for digest, ids in (await self.line_ids(wanted)).items():
                naming = {
                    number
                    for number, (vid, cves) in enumerate(ids)
                    if vid.upper() in identifiers or any(c.upper() in identifiers for c in cves)
                }
                if naming:
                    lines[digest] = naming
            wanted = sorted(lines)
        for chunk in _chunks(wanted, 50):
            statement = select(FindingSet.digest, FindingSet.document, FindingSet.vulnerability_ids).where(
                FindingSet.digest.in_(chunk)
            )
            for digest, document, vulnerability_ids in await self.session.execute(statement):
                only = lines[digest] if lines is not None else None
                found[digest] = decode_findings(document, vulnerability_ids, only)
        return found

    async def document(self, digest: str) -> bytes | None:
        """A set's compressed document (`portal.scanning.findings`)."""
        statement = select(FindingSet.document).where(FindingSet.digest == digest)
        document: bytes | None = (await self.session.execute(statement)).scalar_one_or_none()
        return document

    async def history(
        self,
        tenant_id: str,
        image_id: str,
        version_id: str,
        page: PageParams,
        *,
        since: datetime | None,
        until: datetime | None,
    ) -> Slice[Scan]:
        """Newest first: the scans of a published version of an image the tenant is entitled to."""
        statement = _entitled(select(Scan), tenant_id, image_id, version_id)
        if since is not None:
            statement = statement.where(Scan.scanned_at >= since)
        if until is not None:
            statement = statement.where(Scan.scanned_at <= until)
        return await paginate_scalars(self.session, statement, SCAN_HISTORY_ORDER, page)

    async def scan(self, tenant_id: str, image_id: str, version_id: str, scan_id: str) -> Scan | None:
        statement = _entitled(select(Scan), tenant_id, image_id, version_id).where(Scan.id == scan_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def scans_naming(self, version_ids: Sequence[str], identifiers: Sequence[str]) -> set[str]:
        """Which of the (upper-case) identifiers any scan of these versions ever reported."""
        if not identifiers:
            return set()
        # scans pile up, the sets they name do not: a version's rescans mostly share one
        digests: set[str] = set()
        for chunk in _chunks(version_ids):
            statement = select(Scan.findings_digest).where(Scan.version_id.in_(chunk)).distinct()
            digests.update((await self.session.execute(statement)).scalars())
        wanted = set(identifiers)
        found: set[str] = set()
        for lines in (await self.line_ids(sorted(digests))).values():
            for vid, cves in lines:
                found.update(wanted.intersection({vid.upper(), *(c.upper() for c in cves)}))
        return found

    # The package index: which versions name which packages.

    async def indexed_versions(self, version_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(version_ids))):
            statement = (
                select(VersionPackage.version_id).where(VersionPackage.version_id.in_(chunk)).distinct()
            )
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def add_packages(self, rows: list[dict[str, str]]) -> None:
        """Rows of versions that have none yet (the caller holds those versions, so none is added twice)."""
        statement = insert(cast(Table, VersionPackage.__table__))
        for chunk in _chunks(rows, 5000):
            await self.session.execute(statement, list(chunk))

    async def versions_naming(self, keys: Sequence[tuple[str, str]]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            statement = (
                select(VersionPackage.version_id)
                .where(tuple_(VersionPackage.ecosystem, VersionPackage.name).in_(list(chunk)))
                .distinct()
            )
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def all_indexed_versions(self) -> set[str]:
        statement = select(VersionPackage.version_id).distinct()
        return set((await self.session.execute(statement)).scalars())


def _entitled(statement: Select[Scan], tenant_id: str, image_id: str, version_id: str) -> Select[Scan]:
    """Scans of one version, if it is published and its image is granted to the tenant: what a tenant
    may read is decided here, not only by the caller."""
    statement = statement.join(ImageVersion, ImageVersion.id == Scan.version_id).join(
        Entitlement, Entitlement.image_id == ImageVersion.image_id
    )
    return scoped(statement, Entitlement, tenant_id).where(
        Scan.version_id == version_id,
        ImageVersion.image_id == image_id,
        ImageVersion.unpublished_at.is_(None),
    )
