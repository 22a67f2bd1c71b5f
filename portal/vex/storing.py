"""Storing the vendor's statements as they were stated: one row per statement, one per product it names
in the shape the matching compares (`portal.vex.products`), BOM-Links into the portal's own SBOMs read as
the purls they point at. A statement stored already (the same fingerprint) is not stored again."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.catalog import CatalogService
from portal.kit.clock import Clock, utcnow
from portal.kit.ids import is_uuid, new_id
from portal.kit.readcache import VEX, changed
from portal.vex.documents import StatedVex
from portal.vex.products import BOM_LINK, product_rows, version_purl
from portal.vex.repository import VexRepository
from portal.vex.verdicts import EPOCH


class StatementStore:
    def __init__(self, session: AsyncSession, clock: Clock = utcnow) -> None:
        self.session = session
        self.clock = clock
        self.repository = VexRepository(session)
        self.catalog = CatalogService(session, clock)

    async def store(self, actor: Actor, stated: Sequence[StatedVex]) -> list[str]:
        """The statements not stored yet, stored; their ids."""
        by_fingerprint: dict[str, StatedVex] = {}
        for item in stated:
            by_fingerprint.setdefault(item.fingerprint(), item)
        known = await self.repository.known_fingerprints(list(by_fingerprint))
        fresh = {fp: item for fp, item in by_fingerprint.items() if fp not in known}
        links = await self._bom_links(p.ref for item in fresh.values() for p in item.products)
        now = self.clock()
        actor_ref = actor.ref
        statements: list[dict[str, Any]] = []
        products: list[dict[str, Any]] = []
        for fingerprint, item in fresh.items():
            statement_id = new_id()
            statements.append(
                {
                    "id": statement_id,
                    "fingerprint": fingerprint,
                    "format": item.format,
                    "origin": item.origin[:1000],
                    "vulnerability": item.vulnerability[:200],
                    "vulnerability_ids": " ".join(item.vulnerability_ids),
                    "status": item.status,
                    "justification": item.justification,
                    "statement": item.statement,
                    "action": item.action,
                    "products": [p.ref for p in item.products],
                    "stated_at": item.stated_at or now,
                    "created_at": now,
                    "revoked_at": None,
                    "created_by_type": actor_ref.type,
                    "created_by_id": actor_ref.id,
                    "created_by_name": actor_ref.name,
                    "created_by_email": actor_ref.email,
                }
            )
            said = {
                "vulnerability_ids": statements[-1]["vulnerability_ids"],
                "status": item.status,
                "justification": item.justification,
                "statement": item.statement,
                "action": item.action,
                "stated_us": microseconds(item.stated_at or now),
                "created_us": microseconds(now),
                "revoked": False,
            }
            for product in item.products:
                ref = links.get(product.ref, product.ref)
                subcomponents = tuple(links.get(s, s) for s in product.subcomponents)
                for row in product_rows(ref, subcomponents):
                    products.append(
                        {
                            "id": new_id(),
                            "statement_id": statement_id,
                            "image_name": _cut(row.image_name, 200),
                            "image_digest": _cut(row.image_digest, 71),
                            "container_key": _cut(row.container_key, 1000),
                            "container_version": _cut(row.container_version, 300),
                            "component_key": _cut(row.component_key, 1000),
                            "component_version": _cut(row.component_version, 300),
                            **said,
                        }
                    )
        await self.repository.insert(statements, products)
        if statements:
            changed(self.session, VEX)
        return [row["id"] for row in statements]

    async def _bom_links(self, refs: Iterable[str]) -> dict[str, str]:
        """BOM-Link -> purl, for the links into the CycloneDX SBOM of a version the portal published
        (its serial number is the version's id): the image's purl, or the component's."""
        wanted: dict[str, list[tuple[str, str]]] = {}
        for ref in refs:
            link = BOM_LINK.match(ref)
            if link is not None and is_uuid(link["serial"].lower()):
                wanted.setdefault(link["serial"].lower(), []).append((ref, unquote(link["ref"])))
        if not wanted:
            return {}
        found: dict[str, str] = {}
        for version, image in await self.catalog.published_with_images(sorted(wanted)):
            inventory = await self.catalog.inventory(version.id)
            if inventory is None:
                continue
            root = version_purl(image, version)
            by_ref = {c.ref: c.purl for c in inventory.components if c.purl}
            for stated, bom_ref in wanted[version.id]:
                purl = (
                    root
                    if bom_ref in (root, unquote(root))
                    else by_ref.get(bom_ref.removeprefix("component:"))
                )
                if purl is not None:
                    found[stated] = purl
        return found


def microseconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None
