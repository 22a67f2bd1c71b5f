"""Every query on the KEV and EPSS tables. They are the vendor's and shared: no tenant scoping applies."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import String, Table, any_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.intel.models import EpssScore, KevEntry

T = TypeVar("T")
_CHUNK = 2000


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class IntelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(
        self, model: type[KevEntry] | type[EpssScore], rows: list[dict[str, Any]], now: datetime
    ) -> tuple[int, int]:
        """Inserts the new rows and updates the changed ones; returns (inserted, updated)."""
        table = cast(Table, model.__table__)
        fields = [c.name for c in table.columns if c.name not in ("cve_id", "imported_at")]
        existing: dict[str, tuple[Any, ...]] = {}
        ids = [row["cve_id"] for row in rows]
        for chunk in _chunks(ids):
            statement = select(table.c.cve_id, *(table.c[f] for f in fields)).where(table.c.cve_id.in_(chunk))
            existing.update({row[0]: tuple(row[1:]) for row in await self.session.execute(statement)})
        new = [{**row, "imported_at": now} for row in rows if row["cve_id"] not in existing]
        changed = [
            {**{f"b_{f}": row[f] for f in fields}, "b_cve_id": row["cve_id"], "b_imported_at": now}
            for row in rows
            if row["cve_id"] in existing and existing[row["cve_id"]] != tuple(row[f] for f in fields)
        ]
        for chunk in _chunks(new):
            await self.session.execute(insert(table), list(chunk))
        if changed:
            refresh = (
                update(table)
                .where(table.c.cve_id == bindparam("b_cve_id"))
                .values({f: bindparam(f"b_{f}") for f in [*fields, "imported_at"]})
            )
            for chunk in _chunks(changed):
                await self.session.execute(refresh, list(chunk))
        return len(new), len(changed)

    async def kev_ids(self) -> frozenset[str]:
        return frozenset((await self.session.execute(select(KevEntry.cve_id))).scalars())

    async def epss_scores(self, cve_ids: Sequence[str]) -> dict[str, float]:
        wanted = select(EpssScore.cve_id, EpssScore.score)
        if (await self.session.connection()).dialect.name == "postgresql":
            # one array parameter: PostgreSQL plans an IN list of thousands of parameters slowly
            from sqlalchemy.dialects import postgresql

            ids = bindparam("cve_ids", list(cve_ids), type_=postgresql.ARRAY(String))
            rows = await self.session.execute(wanted.where(EpssScore.cve_id == any_(ids)))
            return {cve_id: score for cve_id, score in rows}
        found: dict[str, float] = {}
        for chunk in _chunks(cve_ids, 5000):
            statement = wanted.where(EpssScore.cve_id.in_(chunk))
            found.update({cve_id: score for cve_id, score in await self.session.execute(statement)})
        return found

    async def kev(self, cve_ids: Sequence[str]) -> dict[str, KevEntry]:
        found: dict[str, KevEntry] = {}
        for chunk in _chunks(sorted(set(cve_ids))):
            statement = select(KevEntry).where(KevEntry.cve_id.in_(chunk))
            found.update({e.cve_id: e for e in (await self.session.execute(statement)).scalars()})
        return found

    async def epss(self, cve_ids: Sequence[str]) -> dict[str, EpssScore]:
        found: dict[str, EpssScore] = {}
        for chunk in _chunks(sorted(set(cve_ids))):
            statement = select(EpssScore).where(EpssScore.cve_id.in_(chunk))
            found.update({e.cve_id: e for e in (await self.session.execute(statement)).scalars()})
        return found
