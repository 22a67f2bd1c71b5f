"""Every query on scans and findings. Scans belong to versions, which are the vendor's; the queries that
read for a tenant join its entitlement through `scoped` themselves (and the service asks the catalog
first, to tell an invisible version from an empty history)."""

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, and_, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog.models import Entitlement, Image, ImageVersion
from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import scoped
from portal.scanning.findings import FoundVulnerability, decode_findings, decode_ids
from portal.scanning.models import FindingSet, Scan

T = TypeVar("T")

_CHUNK = 500

SCAN_HISTORY_ORDER = Keyset(BY_TIME, (Scan.scanned_at, Scan.id), descending=True)


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ScanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, scans: list[dict[str, Any]], finding_sets: list[dict[str, Any]]) -> None:
        """The scans, and those of their finding sets not stored yet (another run may store the same set
        meanwhile: a set is content, so the first one stored stands)."""
        stored = await self.stored_finding_sets([row["digest"] for row in finding_sets])
        missing = [row for row in finding_sets if row["digest"] not in stored]
        if missing:
            connection = await self.session.connection()
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(cast(Table, FindingSet.__table__)).on_conflict_do_nothing(
                index_elements=["digest"]
            )
            for chunk in _chunks(missing, 50):
                await self.session.execute(statement, list(chunk))
        for chunk in _chunks(scans, 1000):
            await self.session.execute(insert(cast(Table, Scan.__table__)), list(chunk))

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
        """digest -> the advisory id of each finding of the set, in scan order."""
        found: dict[str, list[str]] = {}
        for chunk in _chunks(sorted(set(digests))):
            statement = select(FindingSet.digest, FindingSet.vulnerability_ids).where(
                FindingSet.digest.in_(chunk)
            )
            for digest, ids in await self.session.execute(statement):
                found[digest] = decode_ids(ids)
        return found

    async def findings(
        self, digests: Sequence[str], vulnerability_ids: AbstractSet[str] | None = None
    ) -> dict[str, list[FoundVulnerability]]:
        """digest -> the set's findings in scan order, or only those of some advisories (a set that has
        none of them is not even opened)."""
        found: dict[str, list[FoundVulnerability]] = {}
        wanted = sorted(set(digests))
        if vulnerability_ids is not None:
            known = await self.vulnerability_ids(wanted)
            wanted = [digest for digest in wanted if not vulnerability_ids.isdisjoint(known.get(digest, ()))]
        for chunk in _chunks(wanted, 50):
            statement = select(FindingSet).where(FindingSet.digest.in_(chunk))
            for row in (await self.session.execute(statement)).scalars():
                found[row.digest] = decode_findings(row.document, row.vulnerability_ids, vulnerability_ids)
        return found

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

    async def entitled_versions(self, tenant_id: str) -> list[tuple[ImageVersion, Image]]:
        """Every version, published or not, of the images the tenant is entitled to."""
        statement = scoped(
            select(ImageVersion, Image)
            .join(Image, Image.id == ImageVersion.image_id)
            .join(Entitlement, Entitlement.image_id == Image.id),
            Entitlement,
            tenant_id,
        ).order_by(Image.name, ImageVersion.published_at.desc(), ImageVersion.id)
        return [(version, image) for version, image in await self.session.execute(statement)]

    async def scans_naming(self, version_ids: Sequence[str], vulnerability_ids: Sequence[str]) -> set[str]:
        """Which of the advisories any scan of these versions ever reported."""
        if not vulnerability_ids:
            return set()
        # scans pile up, the sets they name do not: a version's rescans mostly share one
        digests: set[str] = set()
        for chunk in _chunks(version_ids):
            statement = select(Scan.findings_digest).where(Scan.version_id.in_(chunk)).distinct()
            digests.update((await self.session.execute(statement)).scalars())
        wanted = set(vulnerability_ids)
        found: set[str] = set()
        for ids in (await self.vulnerability_ids(sorted(digests))).values():
            found.update(wanted.intersection(ids))
        return found


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
