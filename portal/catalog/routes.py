"""The tenant's catalog: entitled images, their published versions and both SBOM downloads."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response

from portal.api.cached import cached
from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import NamePaging
from portal.api.path_ids import PathId
from portal.auth.guard import CurrentActor, GuardedRoute
from portal.catalog.models import Image, ImageVersion
from portal.catalog.repository import SbomFormat, StoredDocument
from portal.catalog.schemas import ImageDetailOut, ImageOut, LatestScanOut, LatestVersionOut, VersionOut
from portal.catalog.service import CatalogService
from portal.kit.conditional import none_match, strong_etag
from portal.kit.pagination import Page, PageParams
from portal.kit.readcache import CATALOG, INTEL, SCANS, VEX
from portal.kit.schema import NO_NUL_PATTERN
from portal.runtime import Runtime
from portal.scanning.service import ScanService
from portal.scanning.summaries import LatestScan

router = APIRouter(prefix="/api/docker-images", tags=["images"], route_class=GuardedRoute)

SPDX_MEDIA_TYPE = "application/spdx+json"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json; version=1.5"
_MEDIA_TYPES: dict[SbomFormat, str] = {"spdx": SPDX_MEDIA_TYPE, "cyclonedx": CYCLONEDX_MEDIA_TYPE}
_EXTENSIONS: dict[SbomFormat, str] = {"spdx": "spdx.json", "cyclonedx": "cdx.json"}
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")

IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", description="ETags the client holds; a match answers 304 without a body."),
]


def _image_out(image: Image, latest: ImageVersion) -> dict[str, Any]:
    return {
        "id": image.id,
        "name": image.name,
        "repository": image.repository,
        "description": image.description,
        "hardening_tags": latest.hardening_tags,
        "latest_version": LatestVersionOut.model_validate(latest),
        "updated_at": image.updated_at,
    }


@router.get(
    "",
    response_model=Page[ImageOut],
    summary="List the images this tenant is entitled to, sorted by name",
    responses=error_responses(400),
)
@cached(CATALOG)
async def list_images(
    actor: CurrentActor,
    db: DbSession,
    page: Annotated[PageParams, Depends(NamePaging)],
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL_PATTERN, description="Case-insensitive part of the image name."),
    ] = None,
    hardening_tag: Annotated[
        str | None,
        Query(
            alias="hardeningTag",
            max_length=64,
            pattern=NO_NUL_PATTERN,
            description="Only images whose latest version has it.",
        ),
    ] = None,
) -> Page[ImageOut]:
    found = await CatalogService(db).list_images(actor.tenant_id, page, q=q, hardening_tag=hardening_tag)
    return Page[ImageOut](
        items=[ImageOut(**_image_out(image, latest)) for image, latest in found.items],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{image_id}",
    response_model=ImageDetailOut,
    summary="One image with its published versions, newest first",
    responses=error_responses(404),
)
@cached(CATALOG, SCANS, INTEL, VEX)
async def get_image(
    image_id: PathId, actor: CurrentActor, db: DbSession, runtime: RuntimeDep
) -> ImageDetailOut:
    detail = await CatalogService(db).image_detail(actor.tenant_id, image_id)
    latest = await ScanService(db, runtime.clock).latest_summaries(
        actor.tenant_id, [version.id for version in detail.versions]
    )
    return ImageDetailOut(
        **_image_out(detail.image, detail.latest),
        versions=[
            VersionOut.model_validate(version).model_copy(
                update={"latest_scan": _latest(latest.get(version.id))}
            )
            for version in detail.versions
        ],
    )


def _latest(found: LatestScan | None) -> LatestScanOut | None:
    if found is None:
        return None
    return LatestScanOut(id=found.scan.id, scanned_at=found.scan.scanned_at, **found.summary)


def _download_responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "object"}}}, "description": "The document."},
        304: {"description": "Not modified: the client's If-None-Match holds the current ETag."},
        **error_responses(404),
    }


async def sbom_response(
    runtime: Runtime,
    tenant_id: str,
    image_id: str,
    version_id: str,
    kind: SbomFormat,
    if_none_match: str | None,
) -> Response:
    """A version's SBOM as a download (or a 304): the API's and the web console's.

    Both reads come from the read cache: whether the tenant sees the version (and its document's
    hash) until the catalog changes, the document itself by its hash, which never goes stale. Each is
    read in a session of its own: callers waiting for the same answer share it."""
    cache = runtime.read_cache

    async def visible() -> StoredDocument:
        async with runtime.db.sessions() as session:
            service = CatalogService(session)
            return await service.document(tenant_id, image_id, version_id, kind, with_content=False)

    async def content() -> bytes:
        async with runtime.db.sessions() as session:
            found = await CatalogService(session).document(tenant_id, image_id, version_id, kind)
        assert found.content is not None
        return found.content

    stored = await cache.load(("sbom", tenant_id, image_id, version_id, kind), (CATALOG,), visible)
    headers = _cache_headers(stored)
    if none_match(if_none_match, strong_etag(stored.sha256)):
        return Response(status_code=304, headers=headers)
    document = await cache.load(("sbom-document", stored.sha256), (), content, size=len)
    headers["Content-Disposition"] = f'attachment; filename="{_filename(stored, kind)}"'
    return Response(content=document, media_type=_MEDIA_TYPES[kind], headers=headers)


def _cache_headers(stored: StoredDocument) -> dict[str, str]:
    return {"ETag": strong_etag(stored.sha256), "Cache-Control": "private"}


def _filename(stored: StoredDocument, kind: SbomFormat) -> str:
    label = stored.tags[0] if stored.tags else stored.digest.removeprefix("sha256:")[:12]
    stem = _UNSAFE_IN_FILENAME.sub("-", f"{stored.image_name}-{label}")
    return f"{stem}.{_EXTENSIONS[kind]}"


@router.get(
    "/{image_id}/versions/{version_id}/sbom/spdx",
    response_class=Response,
    summary="The version's SBOM as an SPDX 2.3 JSON document",
    responses=_download_responses(SPDX_MEDIA_TYPE),
)
async def download_spdx(
    image_id: PathId,
    version_id: PathId,
    actor: CurrentActor,
    runtime: RuntimeDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await sbom_response(runtime, actor.tenant_id, image_id, version_id, "spdx", if_none_match)


@router.get(
    "/{image_id}/versions/{version_id}/sbom/cyclonedx",
    response_class=Response,
    summary="The version's SBOM as a CycloneDX 1.5 JSON document",
    responses=_download_responses(CYCLONEDX_MEDIA_TYPE),
)
async def download_cyclonedx(
    image_id: PathId,
    version_id: PathId,
    actor: CurrentActor,
    runtime: RuntimeDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await sbom_response(runtime, actor.tenant_id, image_id, version_id, "cyclonedx", if_none_match)
