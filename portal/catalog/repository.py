"""Every query of the catalog. Tenants reach images only through their entitlement rows (`scoped`); the
operator's queries over every tenant's grants say so (`across_tenants`)."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog.models import Entitlement, Image, ImageVersion, VersionHardeningTag, VersionSbom
from portal.kit.pagination import BY_NAME, Keyset, PageParams, Slice, paginate_rows
from portal.kit.tenancy import SelectT, across_tenants, scoped
from portal.tenants.models import Tenant

SbomFormat = Literal["spdx", "cyclonedx"]

IMAGE_ORDER = Keyset(BY_NAME, (Image.name, Image.id))


@dataclass(frozen=True, slots=True)
class StoredDocument:
    image_name: str
    tags: list[str]
    digest: str
    sha256: str
    content: bytes | None


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)

    # The operator's side: every image, published or not.

    async def image_by_name(self, name: str, *, for_update: bool = False) -> Image | None:
        """`for_update` holds the image's row until the transaction ends (PostgreSQL), so that two
        publishes of one image move its tags one after the other."""
        statement = select(Image).where(Image.name == name)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def image_by_id(self, image_id: str) -> Image | None:
        return await self.session.get(Image, image_id)

    async def all_images(self) -> list[Image]:
        return list((await self.session.execute(select(Image).order_by(Image.name, Image.id))).scalars())

    async def version_by_digest(self, image_id: str, digest: str) -> ImageVersion | None:
        statement = select(ImageVersion).where(
            ImageVersion.image_id == image_id, ImageVersion.digest == digest
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def versions_of(self, image_id: str) -> list[ImageVersion]:
        """Every version of the image, published or not."""
        statement = select(ImageVersion).where(ImageVersion.image_id == image_id).order_by(ImageVersion.id)
        return list((await self.session.execute(statement)).scalars())

    async def versions_by_id(self, version_ids: Sequence[str]) -> dict[str, ImageVersion]:
        if not version_ids:
            return {}
        statement = select(ImageVersion).where(ImageVersion.id.in_(version_ids))
        return {v.id: v for v in (await self.session.execute(statement)).scalars()}

    async def newest_published_version(self, image_id: str) -> ImageVersion | None:
        statement = (
            _published(select(ImageVersion))
            .where(ImageVersion.image_id == image_id)
            .order_by(ImageVersion.published_at.desc(), ImageVersion.id.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def version_counts(self) -> dict[str, tuple[int, int]]:
        """image id -> (published versions, all versions)."""
        published = func.count(ImageVersion.id).filter(ImageVersion.unpublished_at.is_(None))
        statement = select(ImageVersion.image_id, published, func.count(ImageVersion.id)).group_by(
            ImageVersion.image_id
        )
        return {row[0]: (row[1], row[2]) for row in await self.session.execute(statement)}

    async def grants(self) -> dict[str, list[str]]:
        """image id -> the slugs of the tenants entitled to it."""
        statement = across_tenants(
            select(Entitlement.image_id, Tenant.slug)
            .join(Tenant, Tenant.id == Entitlement.tenant_id)
            .order_by(Tenant.slug)
        )
        granted: dict[str, list[str]] = {}
        for image_id, slug in await self.session.execute(statement):
            granted.setdefault(image_id, []).append(slug)
        return granted

    async def entitled_tenant_ids(self, image_id: str) -> list[str]:
        statement = across_tenants(
            select(Entitlement.tenant_id)
            .where(Entitlement.image_id == image_id)
            .order_by(Entitlement.tenant_id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def entitled_tenants_of(self, image_ids: list[str]) -> dict[str, list[str]]:
        statement = across_tenants(
            select(Entitlement.image_id, Entitlement.tenant_id)
            .where(Entitlement.image_id.in_(image_ids))
            .order_by(Entitlement.image_id, Entitlement.tenant_id)
        )
        found: dict[str, list[str]] = {image_id: [] for image_id in image_ids}
        for image_id, tenant_id in await self.session.execute(statement):
            found[image_id].append(tenant_id)
        return found

    async def entitlement(self, tenant_id: str, image_id: str) -> Entitlement | None:
        statement = scoped(select(Entitlement), Entitlement, tenant_id).where(
            Entitlement.image_id == image_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def delete(self, row: object) -> None:
        await self.session.delete(row)

    async def published_inventories(self) -> AsyncIterator[tuple[ImageVersion, bytes]]:
        statement = (
            _published(select(ImageVersion, VersionSbom.inventory))
            .join(VersionSbom, VersionSbom.version_id == ImageVersion.id)
            .order_by(ImageVersion.image_id, ImageVersion.published_at, ImageVersion.id)
            .execution_options(yield_per=50)
        )
        result = await self.session.stream(statement)
        async for version, inventory in result:
            yield version, inventory

    async def inventory(self, version_id: str) -> bytes | None:
        statement = select(VersionSbom.inventory).where(VersionSbom.version_id == version_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def inventories(self, version_ids: Sequence[str]) -> dict[str, bytes]:
        statement = select(VersionSbom.version_id, VersionSbom.inventory).where(
            VersionSbom.version_id.in_(version_ids)
        )
        return {version_id: inventory for version_id, inventory in await self.session.execute(statement)}

    # The tenant's side: entitled images whose latest version is published, and their published versions.

    async def visible_images(
        self,
        tenant_id: str,
        page: PageParams,
        *,
        name_contains: str | None = None,
        hardening_tag: str | None = None,
    ) -> Slice[tuple[Image, ImageVersion]]:
        statement: Select[Image, ImageVersion] = _visible(tenant_id)
        if name_contains:
            statement = statement.where(
                func.lower(Image.name).contains(name_contains.lower(), autoescape=True)
            )
        if hardening_tag:
            statement = statement.where(
                exists().where(
                    VersionHardeningTag.version_id == Image.latest_version_id,
                    VersionHardeningTag.tag == hardening_tag.lower(),
                )
            )
        found = await paginate_rows(self.session, statement, IMAGE_ORDER, page)
        return found.map(lambda row: (row[0], row[1]))

    async def visible_hardening_tags(self, tenant_id: str) -> list[str]:
        """Every hardening tag of the latest versions of the images the tenant sees."""
        statement = scoped(
            select(VersionHardeningTag.tag)
            .distinct()
            .join(Image, Image.latest_version_id == VersionHardeningTag.version_id)
            .join(Entitlement, Entitlement.image_id == Image.id),
            Entitlement,
            tenant_id,
        ).order_by(VersionHardeningTag.tag)
        return list((await self.session.execute(statement)).scalars())

    async def visible_image(self, tenant_id: str, image_id: str) -> tuple[Image, ImageVersion] | None:
        row = (await self.session.execute(_visible(tenant_id).where(Image.id == image_id))).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def published_versions(self, image_id: str) -> list[ImageVersion]:
        statement = (
            _published(select(ImageVersion))
            .where(ImageVersion.image_id == image_id)
            .order_by(ImageVersion.published_at.desc(), ImageVersion.id.desc())
        )
        return list((await self.session.execute(statement)).scalars())

    async def visible_version(self, tenant_id: str, image_id: str, version_id: str) -> ImageVersion | None:
        statement = _published(
            scoped(
                select(ImageVersion).join(Entitlement, Entitlement.image_id == ImageVersion.image_id),
                Entitlement,
                tenant_id,
            )
        ).where(ImageVersion.id == version_id, ImageVersion.image_id == image_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def visible_document(
        self, tenant_id: str, image_id: str, version_id: str, kind: SbomFormat, *, with_content: bool
    ) -> StoredDocument | None:
        content: Any = VersionSbom.spdx if kind == "spdx" else VersionSbom.cyclonedx
        sha256 = VersionSbom.spdx_sha256 if kind == "spdx" else VersionSbom.cyclonedx_sha256
        columns: list[Any] = [Image.name, ImageVersion.tags, ImageVersion.digest, sha256]
        if with_content:
            columns.append(content)
        statement = _published(
            scoped(
                select(*columns)
                .select_from(ImageVersion)
                .join(Image, Image.id == ImageVersion.image_id)
                .join(Entitlement, Entitlement.image_id == Image.id)
                .join(VersionSbom, VersionSbom.version_id == ImageVersion.id),
                Entitlement,
                tenant_id,
            )
        ).where(ImageVersion.id == version_id, ImageVersion.image_id == image_id)
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        return StoredDocument(
            image_name=row[0],
            tags=list(row[1]),
            digest=row[2],
            sha256=row[3],
            content=row[4] if with_content else None,
        )

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

    async def published_with_images(self, version_ids: Sequence[str]) -> list[tuple[ImageVersion, Image]]:
        """Those of these versions that are published, with their images."""
        found: list[tuple[ImageVersion, Image]] = []
        ids = sorted(set(version_ids))
        for start in range(0, len(ids), 500):
            statement = _published(
                select(ImageVersion, Image)
                .join(Image, Image.id == ImageVersion.image_id)
                .where(ImageVersion.id.in_(ids[start : start + 500]))
            )
            found.extend((version, image) for version, image in await self.session.execute(statement))
        return found

    async def published_version_ids(self) -> list[str]:
        statement = _published(select(ImageVersion.id))
        return list((await self.session.execute(statement)).scalars())


def _published(statement: SelectT) -> SelectT:
    return statement.where(ImageVersion.unpublished_at.is_(None))


def _visible(tenant_id: str) -> Select[Image, ImageVersion]:
    statement = (
        select(Image, ImageVersion)
        .join(Entitlement, Entitlement.image_id == Image.id)
        .join(ImageVersion, ImageVersion.id == Image.latest_version_id)
    )
    return scoped(statement, Entitlement, tenant_id)
