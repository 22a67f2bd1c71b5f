"""Every query on scans and findings. Scans belong to versions, which are the vendor's; what a tenant may
read is decided by the catalog (entitlement, published) before these run, or joined here through `scoped`."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog.models import Entitlement, Image, ImageVersion
from portal.kit.tenancy import scoped
from portal.scanning.models import Finding, Scan

T = TypeVar("T")

FINDING_COLUMNS = (
    "scan_id",
    "position",
    "vulnerability_id",
    "aliases",
    "severity",
    "cvss_score",
    "package_name",
    "package_version",
    "package_purl",
    "fixed_version",
    "status",
)
_CHUNK = 500


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ScanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, scans: list[dict[str, Any]], findings: list[tuple[Any, ...]]) -> None:
        """Scans through SQLAlchemy; findings, hundreds of thousands in a full rescan, as plain tuples
        handed to the driver's executemany (their aliases already JSON), in FINDING_COLUMNS order."""
        for chunk in _chunks(scans, 1000):
            await self.session.execute(insert(cast(Table, Scan.__table__)), list(chunk))
        if not findings:
            return
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            placeholders = ", ".join(f"${i}" for i in range(1, len(FINDING_COLUMNS) + 1))
        else:
            placeholders = ", ".join("?" for _ in FINDING_COLUMNS)
        statement = f"INSERT INTO scan_findings ({', '.join(FINDING_COLUMNS)}) VALUES ({placeholders})"
        for start in range(0, len(findings), 20_000):
            await connection.exec_driver_sql(statement, findings[start : start + 20_000])

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

    async def vulnerability_ids(self, scan_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {scan_id: set() for scan_id in scan_ids}
        for chunk in _chunks(scan_ids):
            statement = select(Finding.scan_id, Finding.vulnerability_id).where(Finding.scan_id.in_(chunk))
            for scan_id, vulnerability_id in await self.session.execute(statement):
                found[scan_id].add(vulnerability_id)
        return found

    async def findings(
        self, scan_ids: Sequence[str], vulnerability_ids: Sequence[str] | None = None
    ) -> list[Finding]:
        """The scans' findings in scan order, or only those of some advisories."""
        found: list[Finding] = []
        for chunk in _chunks(scan_ids):
            statement = select(Finding).where(Finding.scan_id.in_(chunk))
            if vulnerability_ids is not None:
                statement = statement.where(Finding.vulnerability_id.in_(vulnerability_ids))
            found.extend(
                (await self.session.execute(statement.order_by(Finding.scan_id, Finding.position))).scalars()
            )
        return found

    async def history(
        self,
        version_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[Scan]:
        """Newest first; `after` is the last (scanned_at, id) of the previous page."""
        statement = select(Scan).where(Scan.version_id == version_id)
        if since is not None:
            statement = statement.where(Scan.scanned_at >= since)
        if until is not None:
            statement = statement.where(Scan.scanned_at <= until)
        if after is not None:
            at, scan_id = after
            statement = statement.where(
                or_(Scan.scanned_at < at, and_(Scan.scanned_at == at, Scan.id < scan_id))
            )
        statement = statement.order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def scan(self, version_id: str, scan_id: str) -> Scan | None:
        statement = select(Scan).where(Scan.id == scan_id, Scan.version_id == version_id)
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
        found: set[str] = set()
        if not vulnerability_ids:
            return found
        for chunk in _chunks(version_ids):
            statement = (
                select(Finding.vulnerability_id)
                .join(Scan, Scan.id == Finding.scan_id)
                .where(Scan.version_id.in_(chunk), Finding.vulnerability_id.in_(vulnerability_ids))
                .distinct()
            )
            found.update((await self.session.execute(statement)).scalars())
        return found
