"""What both rendered documents say about the image itself: its purl, its time, its top-level parts."""

import re
import uuid
from datetime import UTC
from urllib.parse import quote

from packageurl import PackageURL

from portal.sbom.model import ImageSubject, Inventory

TOOL_NAME = "portal"
TOOL_VERSION = "0.1.0"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def image_purl(subject: ImageSubject) -> str:
    if not _DIGEST.match(subject.digest):
        raise ValueError(f"image digest must be sha256:<64 lowercase hex>, not {subject.digest!r}")
    purl: str = PackageURL(
        type="oci",
        name=subject.name,
        version=subject.digest,
        qualifiers={"repository_url": subject.repository},
    ).to_string()
    # The purl spec percent-encodes the digest's colon (`sha256%3A...`), as registries' own tools write
    # it; packageurl-python leaves it bare.
    return purl.replace(f"@{subject.digest}", f"@{quote(subject.digest, safe='')}", 1)


def published_timestamp(subject: ImageSubject) -> str:
    if subject.published_at.tzinfo is None:
        raise ValueError("published_at must be timezone-aware")
    return subject.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document_uuid(subject: ImageSubject) -> str:
    return str(uuid.UUID(subject.version_id))


def top_level_refs(inventory: Inventory) -> list[str]:
    """Components no other component depends on: what the image itself directly holds."""
    depended_on = {ref for _, targets in inventory.dependencies for ref in targets}
    return [c.ref for c in inventory.components if c.ref not in depended_on]
