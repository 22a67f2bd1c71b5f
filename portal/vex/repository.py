"""Every query on VEX statements and tenants' analyses."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import across_tenants, scoped
from portal.vex.models import FindingAnalysis, VexProduct, VexStatement
from portal.vex.verdicts import Candidate

_CHUNK = 500
STATEMENT_ORDER = Keyset(BY_TIME, (VexStatement.created_at, VexStatement.id), descending=True)
ANALYSIS_ORDER = Keyset(BY_TIME, (FindingAnalysis.recorded_at, FindingAnalysis.id), descending=True)


class VexRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Vendor statements.

    async def known_fingerprints(self, fingerprints: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = sorted(set(fingerprints))
        for start in range(0, len(unique), _CHUNK):
            statement = select(VexStatement.fingerprint).where(
                VexStatement.fingerprint.in_(unique[start : start + _CHUNK])
            )
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def insert(self, statements: list[dict[str, Any]], products: list[dict[str, Any]]) -> None:
        for start in range(0, len(statements), 1000):
            await self.session.execute(
                insert(cast(Table, VexStatement.__table__)), statements[start : start + 1000]
            )
        for start in range(0, len(products), 1000):
            await self.session.execute(
                insert(cast(Table, VexProduct.__table__)), products[start : start + 1000]
            )

    async def any_statement(self) -> bool:
        statement = select(VexProduct.id).where(VexProduct.revoked.is_(False)).limit(1)
        return (await self.session.execute(statement)).first() is not None

    async def statement(self, statement_id: str) -> VexStatement | None:
        return await self.session.get(VexStatement, statement_id)

    async def statements(self, statement_ids: Sequence[str]) -> list[VexStatement]:
        found: list[VexStatement] = []
        for start in range(0, len(statement_ids), _CHUNK):
            statement = select(VexStatement).where(VexStatement.id.in_(statement_ids[start : start + _CHUNK]))
            found.extend((await self.session.execute(statement)).scalars())
        return found

    async def revoke(self, statement_id: str, at: datetime) -> None:
        await self.session.execute(
            update(VexStatement).where(VexStatement.id == statement_id).values(revoked_at=at)
        )
        await self.session.execute(
            update(VexProduct).where(VexProduct.statement_id == statement_id).values(revoked=True)
        )

    async def page(
        self,
        page: PageParams,
        *,
        vulnerability: str | None = None,
        image_names: Sequence[str] | None = None,
        include_revoked: bool = False,
    ) -> Slice[VexStatement]:
        """Newest first; of one vulnerability (by the name it is stated under), of one image."""
        statement = select(VexStatement)
        if not include_revoked:
            statement = statement.where(VexStatement.revoked_at.is_(None))
        if vulnerability is not None:
            statement = statement.where(func.upper(VexStatement.vulnerability) == vulnerability.upper())
        if image_names is not None:
            about_image = select(VexProduct.statement_id).where(VexProduct.image_name.in_(list(image_names)))
            statement = statement.where(VexStatement.id.in_(about_image))
        return await paginate_scalars(self.session, statement, STATEMENT_ORDER, page)

    async def candidates(
        self,
        image_names: Sequence[str],
        component_keys: Iterable[str],
        *,
        with_revoked: Sequence[str] = (),
    ) -> list[Candidate]:
        """The (statement, product) rows that may apply to a version of an image named so, for findings
        on these components: those about the whole image, and those about one of the components. Revoked
        statements are left out, except those named in `with_revoked`."""
        keys = sorted(set(component_keys))
        conditions = [and_(VexProduct.component_key.is_(None), VexProduct.image_name.in_(image_names))]
        for start in range(0, len(keys), _CHUNK):
            conditions.append(VexProduct.component_key.in_(keys[start : start + _CHUNK]))
        statement = select(
            VexProduct.statement_id,
            VexProduct.vulnerability_ids,
            VexProduct.status,
            VexProduct.justification,
            VexProduct.statement,
            VexProduct.action,
            VexProduct.stated_us,
            VexProduct.created_us,
            VexProduct.image_name,
            VexProduct.image_digest,
            VexProduct.container_key,
            VexProduct.container_version,
            VexProduct.component_key,
            VexProduct.component_version,
        )
        active: ColumnElement[bool] = VexProduct.revoked.is_(False)
        if with_revoked:
            active = or_(active, VexProduct.statement_id.in_(list(with_revoked)))
        statement = statement.where(active, or_(*conditions))
        return [
            Candidate(
                statement_id=row[0],
                vulnerability_ids=frozenset(row[1].split()),
                status=row[2],
                justification=row[3],
                statement=row[4],
                action=row[5],
                stated_us=row[6],
                created_us=row[7],
                image_name=row[8],
                image_digest=row[9],
                container_key=row[10],
                container_version=row[11],
                component_key=row[12],
                component_version=row[13],
            )
            # a Core read: thousands of plain rows, no ORM bookkeeping
            for row in await (await self.session.connection()).execute(statement)
        ]

    async def products_of(self, statement_ids: Sequence[str]) -> list[VexProduct]:
        found: list[VexProduct] = []
        for start in range(0, len(statement_ids), _CHUNK):
            statement = select(VexProduct).where(
                VexProduct.statement_id.in_(statement_ids[start : start + _CHUNK])
            )
            found.extend((await self.session.execute(statement)).scalars())
        return found

    # Tenants' analyses.

    def add_analysis(self, analysis: FindingAnalysis) -> None:
        self.session.add(analysis)

    async def analyses(self, tenant_id: str, version_ids: Sequence[str]) -> list[FindingAnalysis]:
        """Every entry of the tenant's analyses of these versions, oldest first."""
        statement = (
            scoped(select(FindingAnalysis), FindingAnalysis, tenant_id)
            .where(FindingAnalysis.version_id.in_(list(version_ids)))
            .order_by(FindingAnalysis.recorded_at, FindingAnalysis.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def analyses_of_every_tenant(self, version_id: str) -> dict[str, list[FindingAnalysis]]:
        """tenant id -> its entries for the version, oldest first (a scan's events, for every tenant)."""
        statement = across_tenants(
            select(FindingAnalysis)
            .where(FindingAnalysis.version_id == version_id)
            .order_by(FindingAnalysis.recorded_at, FindingAnalysis.id)
        )
        found: dict[str, list[FindingAnalysis]] = {}
        for analysis in (await self.session.execute(statement)).scalars():
            found.setdefault(analysis.tenant_id, []).append(analysis)
        return found

    async def analysis_history(
        self, tenant_id: str, version_id: str, vulnerability_id: str, page: PageParams
    ) -> Slice[FindingAnalysis]:
        statement = scoped(select(FindingAnalysis), FindingAnalysis, tenant_id).where(
            FindingAnalysis.version_id == version_id, FindingAnalysis.vulnerability_id == vulnerability_id
        )
        return await paginate_scalars(self.session, statement, ANALYSIS_ORDER, page)
