"""Publishing and granting through the real catalog service, for tests."""

import hashlib
import json
import secrets
from typing import Any

from portal.catalog import CatalogService, Published, PublishingService, PublishRequest
from portal.runtime import Runtime
from portal.tenants.models import Tenant
from tests.factories import OPERATOR


def digest_of(text: str | None = None) -> str:
    return "sha256:" + hashlib.sha256((text or secrets.token_hex(8)).encode()).hexdigest()


def small_sbom(*packages: tuple[str, str]) -> bytes:
    """A CycloneDX 1.5 document with one PyPI library per (name, version)."""
    packages = packages or (("requests", "2.31.0"), ("urllib3", "2.2.1"))
    components: list[dict[str, Any]] = [
        {
            "type": "library",
            "bom-ref": f"pkg:pypi/{name}@{version}",
            "name": name,
            "version": version,
            "purl": f"pkg:pypi/{name}@{version}",
            "licenses": [{"license": {"id": "MIT"}}],
        }
        for name, version in packages
    ]
    document = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}
    return json.dumps(document).encode()


async def publish(
    runtime: Runtime,
    name: str = "python",
    *,
    sbom: bytes | None = None,
    digest: str | None = None,
    tags: tuple[str, ...] = ("3.12", "latest"),
    hardening: tuple[str, ...] = ("non-root",),
    architectures: tuple[str, ...] = ("amd64",),
    description: str | None = None,
) -> Published:
    request = PublishRequest(
        name=name,
        repository=f"registry.example.com/{name}",
        digest=digest or digest_of(),
        tags=tags,
        sbom=sbom if sbom is not None else small_sbom(),
        architectures=architectures,
        hardening_tags=hardening,
        description=description,
    )
    async with runtime.db.transaction() as session:
        return await PublishingService(session, runtime.clock).publish(OPERATOR, request)


async def grant(runtime: Runtime, tenant: Tenant, image_name: str) -> None:
    async with runtime.db.transaction() as session:
        await CatalogService(session, runtime.clock).grant(OPERATOR, tenant.slug, image_name)


async def revoke(runtime: Runtime, tenant: Tenant, image_name: str) -> None:
    async with runtime.db.transaction() as session:
        await CatalogService(session, runtime.clock).revoke(OPERATOR, tenant.slug, image_name)


async def unpublish(runtime: Runtime, image_name: str, digest: str) -> None:
    async with runtime.db.transaction() as session:
        await PublishingService(session, runtime.clock).unpublish(OPERATOR, image_name, digest)
