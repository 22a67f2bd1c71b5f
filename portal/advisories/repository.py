"""Every query on the advisory tables. They are the vendor's and shared: no tenant scoping applies."""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from portal.advisories.grouping import Group, GroupRating, Member
from portal.advisories.models import Advisory, AdvisoryAlias, AdvisoryPackage, Vulnerability

T = TypeVar("T")

# Bound parameters per statement stay well under SQLite's and asyncpg's limits.
_CHUNK = 500
# pg_advisory_xact_lock's key for imports ("advisory" in ASCII)
_IMPORT_LOCK = 0x61647669736F7279
# For lookups of many short ids (SQLite allows 32766 parameters, asyncpg 32767).
_WIDE = 5000


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AdvisoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hold_imports(self) -> None:
        """Makes the caller's transaction the only import running until it ends, so the import times
        of committed records grow in commit order (what `changed_since` relies on): a PostgreSQL advisory
        lock; on SQLite a first write, which takes the database's write lock."""
        if (await self.session.connection()).dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})
        else:
            await self.session.execute(update(Advisory).where(text("1 = 0")).values(id=Advisory.id))

    async def modified_by_id(self, advisory_ids: Sequence[str]) -> dict[str, tuple[datetime, int]]:
        """id -> (modified, derivation) of the stored ones."""
        found: dict[str, tuple[datetime, int]] = {}
        for chunk in _chunks(advisory_ids):
            statement = select(Advisory.id, Advisory.modified, Advisory.derivation).where(
                Advisory.id.in_(chunk)
            )
            found.update({row[0]: (row[1], row[2]) for row in await self.session.execute(statement)})
        return found

    async def package_keys(self, advisory_ids: Sequence[str]) -> set[tuple[str, str]]:
        """(ecosystem, name) of every package these advisories name."""
        found: set[tuple[str, str]] = set()
        for chunk in _chunks(sorted(set(advisory_ids)), _WIDE):
            statement = (
                select(AdvisoryPackage.ecosystem, AdvisoryPackage.name)
                .where(AdvisoryPackage.advisory_id.in_(chunk))
                .distinct()
            )
            found.update((row[0], row[1]) for row in await self.session.execute(statement))
        return found

    # Alias groups.

    async def known_by(self, identifiers: Sequence[str]) -> set[str]:
        """Ids of the advisories known by any of these (upper-case) identifiers."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(identifiers)), _WIDE):
            statement = select(AdvisoryAlias.advisory_id).where(AdvisoryAlias.identifier.in_(chunk))
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def in_groups(self, group_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(group_ids)), _WIDE):
            statement = select(Advisory.id).where(Advisory.vulnerability_id.in_(chunk))
            found.update((await self.session.execute(statement)).scalars())
        return found

    async def members(self, advisory_ids: Sequence[str]) -> list[tuple[Member, str | None, bool]]:
        """(what grouping needs, current group id, withdrawn) of each advisory."""
        found: list[tuple[Member, str | None, bool]] = []
        for chunk in _chunks(sorted(set(advisory_ids)), _WIDE):
            statement = select(
                Advisory.id,
                Advisory.aliases,
                Advisory.source,
                Advisory.severity,
                Advisory.cvss_score,
                Advisory.cvss_vector,
                Advisory.cvss_version,
                Advisory.vulnerability_id,
                Advisory.withdrawn,
            ).where(Advisory.id.in_(chunk))
            for row in await self.session.execute(statement):
                member = Member(row[0], tuple(row[1]), row[2], row[3], row[4], row[5], row[6])
                found.append((member, row[7], row[8] is not None))
        return found

    async def replace_groups(
        self, groups: Sequence[Group], ungrouped: Sequence[str], gone: Sequence[str], now: datetime
    ) -> None:
        """Writes the groups, points their members at them, and drops the groups no record is in now."""
        for chunk in _chunks(sorted(set(gone) | {g.id for g in groups}), _WIDE):
            await self.session.execute(delete(Vulnerability).where(Vulnerability.id.in_(chunk)))
        rows: list[dict[str, Any]] = [
            {
                "id": g.id,
                "ids": g.ids,
                "severity": g.severity,
                "cvss_score": g.cvss_score,
                "cvss_vector": g.cvss_vector,
                "cvss_version": g.cvss_version,
                "severity_source": g.severity_source,
                "updated_at": now,
            }
            for g in groups
        ]
        for row_chunk in _chunks(rows, 2000):
            await self.session.execute(insert(cast(Table, Vulnerability.__table__)), list(row_chunk))
        table = cast(Table, Advisory.__table__)
        assign = (
            update(table).where(table.c.id == bindparam("b_id")).values(vulnerability_id=bindparam("b_group"))
        )
        pairs: list[dict[str, str | None]] = [{"b_id": m, "b_group": g.id} for g in groups for m in g.members]
        pairs += [{"b_id": advisory_id, "b_group": None} for advisory_id in ungrouped]
        for pair_chunk in _chunks(pairs, 5000):
            await self.session.execute(assign, list(pair_chunk))

    async def facts(self, advisory_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """id -> (group id, severity, cvss score, vector, version) of each advisory: its own rating."""
        found: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(sorted(set(advisory_ids)), _WIDE):
            statement = select(
                Advisory.id,
                Advisory.vulnerability_id,
                Advisory.severity,
                Advisory.cvss_score,
                Advisory.cvss_vector,
                Advisory.cvss_version,
            ).where(Advisory.id.in_(chunk))
            found.update({row[0]: tuple(row[1:]) for row in await self.session.execute(statement)})
        return found

    async def group_ratings(self, group_ids: Sequence[str]) -> dict[str, GroupRating]:
        """Each group's fallback rating (not its ids: a group may hold hundreds of records)."""
        found: dict[str, GroupRating] = {}
        for chunk in _chunks(sorted(set(group_ids)), _WIDE):
            statement = select(
                Vulnerability.id,
                Vulnerability.severity,
                Vulnerability.cvss_score,
                Vulnerability.cvss_vector,
                Vulnerability.cvss_version,
                Vulnerability.severity_source,
            ).where(Vulnerability.id.in_(chunk))
            found.update({row[0]: GroupRating(*row) for row in await self.session.execute(statement)})
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
        """(how many advisories, the newest import time): what a scan was made against."""
        row = (
            await self.session.execute(select(func.count(Advisory.id), func.max(Advisory.imported_at)))
        ).one()
        return int(row[0]), _as_time(row[1])

    async def last_change(self) -> datetime | None:
        stored = select(func.max(Advisory.imported_at)).scalar_subquery()
        regrouped = select(func.max(Vulnerability.updated_at)).scalar_subquery()
        times = [_as_time(t) for t in (await self.session.execute(select(stored, regrouped))).one()]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    async def changed_since(self, since: datetime) -> set[str]:
        """Ids of the advisories an import stored (added, updated, withdrew) or regrouped after `since`:
        those whose record changed, and the members of every alias group formed again."""
        changed = select(Advisory.id).where(Advisory.imported_at > since)
        regrouped = select(Advisory.id).where(
            Advisory.vulnerability_id.in_(select(Vulnerability.id).where(Vulnerability.updated_at > since))
        )
        found = set((await self.session.execute(changed)).scalars())
        found.update((await self.session.execute(regrouped)).scalars())
        return found

    async def any_imported(self) -> bool:
        return (await self.session.execute(select(Advisory.id).limit(1))).first() is not None

    async def package_documents(
        self, keys: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str, str, list[Any]]]:
        """(advisory id, ecosystem, name, matching document) of every advisory naming a key; withdrawn
        ones have no package rows."""
        rows: list[tuple[str, str, str, Any]] = []
        # Read as text and decoded in one call: a run reads tens of thousands of documents, and one
        # json.loads per row through the column type costs more than the query.
        matching = type_coerce(AdvisoryPackage.matching, Text)
        for chunk in _chunks(keys, 1000):
            statement = select(
                AdvisoryPackage.advisory_id, AdvisoryPackage.ecosystem, AdvisoryPackage.name, matching
            ).where(tuple_(AdvisoryPackage.ecosystem, AdvisoryPackage.name).in_(list(chunk)))
            rows.extend((row[0], row[1], row[2], row[3]) for row in await self.session.execute(statement))
        texts = [row[3] for row in rows if isinstance(row[3], str)]
        decoded = iter(json.loads("[" + ",".join(texts) + "]") if texts else [])
        # asyncpg may hand JSONB over already decoded
        return [(a, e, n, next(decoded) if isinstance(doc, str) else doc) for a, e, n, doc in rows]

    async def group_identifiers(self, identifiers: Sequence[str]) -> set[str]:
        """Every id of the alias groups these (upper-case) identifiers belong to."""
        found: set[str] = set()
        for chunk in _chunks(sorted(set(identifiers)), _WIDE):
            statement = (
                select(Vulnerability.id, Vulnerability.ids)
                .join(Advisory, Advisory.vulnerability_id == Vulnerability.id)
                .join(AdvisoryAlias, AdvisoryAlias.advisory_id == Advisory.id)
                .where(AdvisoryAlias.identifier.in_(chunk))
                .distinct()
            )
            for group_id, ids in await self.session.execute(statement):
                found.add(group_id.upper())
                found.update(i.upper() for i in (json.loads(ids) if isinstance(ids, str) else ids))
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


def _as_time(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):  # SQLite's max() loses the column type
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value
