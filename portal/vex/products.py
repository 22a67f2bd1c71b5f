"""What a VEX product names, in the shape the matching compares: package URLs reduced to a key (type,
namespace and name, lower case, without qualifiers) and a version, and images to a name and a digest.

The comparison is string equality on purpose: a statement names a version it checked, not a range. Two
spellings are taken as one: percent-encoding (`sha256%3A...`) and a Go-style leading `v` (`v1.2.3` and
`1.2.3`), since scanners write Go versions both ways. PyPI names are compared PEP 503-normalized.
"""

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from portal.sbom import ImageSubject
from portal.sbom.image import image_purl

if TYPE_CHECKING:  # the catalog reads purls with this module: it imports it
    from portal.catalog import Image, ImageVersion

_PYPI_SEPARATORS = re.compile(r"[-_.]+")
BOM_LINK = re.compile(r"^urn:cdx:(?P<serial>[0-9a-fA-F-]{36})/(?P<version>[0-9]+)#(?P<ref>.+)$")


@dataclass(frozen=True, slots=True)
class PurlKey:
    key: str
    version: str | None

    @property
    def type(self) -> str:
        return self.key.split("/", 1)[0]


def purl_key(purl: str) -> PurlKey | None:
    """The key and version of a package URL; None for anything that is not one."""
    if not purl.startswith("pkg:"):
        return None
    body = purl[4:].lstrip("/").split("#", 1)[0].split("?", 1)[0]
    path, at, version = body.rpartition("@")
    if not at:
        path, version = body, ""
    parts = [unquote(part) for part in path.strip("/").split("/") if part]
    if len(parts) < 2:
        return None
    parts = [part.lower() for part in parts]
    if parts[0] == "pypi":
        parts[-1] = _PYPI_SEPARATORS.sub("-", parts[-1])
    return PurlKey("/".join(parts), unquote(version) or None)


def same_version(stated: str | None, actual: str | None) -> bool:
    """Whether a component at `actual` is the version a statement names (any, when it names none)."""
    if stated is None:
        return True
    if actual is None:
        return False
    return stated == actual or stated.removeprefix("v") == actual.removeprefix("v")


def image_names(name: str) -> tuple[str, ...]:
    """The names an image product may call an image by: its whole name, or (as `pkg:oci` purls name an
    image, its registry path in `repository_url`) only its last segment."""
    whole = name.lower()
    last = whole.rsplit("/", 1)[-1]
    return (whole,) if last == whole else (whole, last)


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One (product, subcomponent) of a statement, as `VexProduct` stores it."""

    image_name: str | None = None
    image_digest: str | None = None
    container_key: str | None = None
    container_version: str | None = None
    component_key: str | None = None
    component_version: str | None = None


def product_rows(product: str, subcomponents: tuple[str, ...]) -> list[ProductRow]:
    """The rows of a product (a purl) and its subcomponents (purls); none for a product that names
    nothing the portal can recognise (a CPE, a BOM-Link into someone else's BOM): the statement is kept,
    and applies to nothing."""
    named = purl_key(product)
    if named is None:
        return []
    subs = [key for key in map(purl_key, subcomponents) if key is not None]
    if subcomponents and not subs:
        return []
    if named.type == "oci":
        image = ProductRow(image_name=named.key.split("/", 1)[1], image_digest=named.version)
        if not subs:
            return [image]
        return [
            ProductRow(
                image_name=image.image_name,
                image_digest=image.image_digest,
                component_key=sub.key,
                component_version=sub.version,
            )
            for sub in subs
        ]
    if not subs:
        return [ProductRow(component_key=named.key, component_version=named.version)]
    return [
        ProductRow(
            container_key=named.key,
            container_version=named.version,
            component_key=sub.key,
            component_version=sub.version,
        )
        for sub in subs
    ]


def version_purl(image: "Image", version: "ImageVersion") -> str:
    """The `pkg:oci/NAME@DIGEST?repository_url=...` purl of one published version of an image."""
    return image_purl(
        ImageSubject(
            name=image.name,
            repository=image.repository,
            digest=version.digest,
            tags=tuple(version.tags),
            architectures=tuple(version.architectures),
            published_at=version.published_at,
            version_id=version.id,
        )
    )
