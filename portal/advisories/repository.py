"""Every query on the advisory tables. They are the vendor's and shared: no tenant scoping applies."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage

T = TypeVar("T")

# Bound parameters per statement stay well under SQLite's and asyncpg's limits.
_CHUNK = 500


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AdvisoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def modified_by_id(self, advisory_ids: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for chunk in _chunks(advisory_ids):
            statement = select(Advisory.id, Advisory.modified).where(Advisory.id.in_(chunk))
            found.update({row[0]: row[1] for row in await self.session.execute(statement)})
        return found

    async def remove(self, advisory_ids: Sequence[str]) -> None:
        for chunk in _chunks(advisory_ids):
            await self.session.execute(delete(AdvisoryPackage).where(AdvisoryPackage.advisory_id.in_(chunk)))
            await self.session.execute(delete(AdvisoryAlias).where(AdvisoryAlias.advisory_id.in_(chunk)))
            await self.session.execute(delete(Advisory).where(Advisory.id.in_(chunk)))

    async def insert(
        self,
        advisories: list[dict[str, Any]],
        packages: list[dict[str, Any]],
        aliases: list[dict[str, Any]],
    ) -> None:
        """Many rows per statement (executemany), not one ORM object flushed per record."""
        for table, rows in (
            (Advisory.__table__, advisories),
            (AdvisoryPackage.__table__, packages),
            (AdvisoryAlias.__table__, aliases),
        ):
            for chunk in _chunks(rows, 2000):
                await self.session.execute(insert(cast(Table, table)), list(chunk))

    async def feed_state(self) -> tuple[int, datetime | None]:
        """(how many advisories, the newest `modified`): what a scan was made against."""
        row = (await self.session.execute(select(func.count(Advisory.id), func.max(Advisory.modified)))).one()
        return int(row[0]), row[1]

    async def any_imported(self) -> bool:
        return (await self.session.execute(select(Advisory.id).limit(1))).first() is not None

    async def package_documents(
        self, keys: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str, str, list[Any]]]:
        """(advisory id, ecosystem, name, matching document) of every advisory naming a key; withdrawn
        ones have no package rows."""
        found: list[tuple[str, str, str, list[Any]]] = []
        for chunk in _chunks(keys):
            statement = select(
                AdvisoryPackage.advisory_id,
                AdvisoryPackage.ecosystem,
                AdvisoryPackage.name,
                AdvisoryPackage.matching,
            ).where(tuple_(AdvisoryPackage.ecosystem, AdvisoryPackage.name).in_(list(chunk)))
            found.extend((row[0], row[1], row[2], row[3]) for row in await self.session.execute(statement))
        return found

    async def known_as(self, identifiers: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        """identifier (upper case) -> [(advisory id, withdrawn)] of every advisory known by it."""
        found: dict[str, list[tuple[str, bool]]] = {}
        for chunk in _chunks(identifiers):
            statement = (
                select(AdvisoryAlias.identifier, Advisory.id, Advisory.withdrawn)
                .join(Advisory, Advisory.id == AdvisoryAlias.advisory_id)
                .where(AdvisoryAlias.identifier.in_(chunk))
                .order_by(Advisory.id)
            )
            for identifier, advisory_id, withdrawn in await self.session.execute(statement):
                found.setdefault(identifier, []).append((advisory_id, withdrawn is not None))
        return found
