"""The demo catalog: a few hardened images with SBOMs shipped in `portal/demo/sboms`, granted to the
demo tenant. Published once; a digest already there is left as it is."""

import hashlib
from dataclasses import dataclass
from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.actor import Actor
from portal.catalog import CatalogService, PublishingService, PublishRequest
from portal.runtime import Runtime

SBOM_PACKAGE = "portal.demo.sboms"


@dataclass(frozen=True)
class DemoImage:
    name: str
    description: str
    tags: tuple[str, ...]
    architectures: tuple[str, ...]
    hardening: tuple[str, ...]
    sbom_file: str

    @property
    def digest(self) -> str:
        # A stable stand-in for the manifest digest, so that a second seeding finds the same version.
        return "sha256:" + hashlib.sha256(f"portal-demo/{self.name}:{self.tags[0]}".encode()).hexdigest()


DEMO_IMAGES = (
    DemoImage(
        "python",
        "Python 3.12 on Debian 12, FIPS-validated OpenSSL, runs as a non-root user.",
        ("3.12", "3.12.3", "latest"),
        ("amd64", "arm64"),
        ("fips", "non-root"),
        "python-3.12.cdx.json",
    ),
    DemoImage(
        "nginx",
        "nginx 1.26 on Alpine 3.20, STIG-hardened, listens on 8080 as a non-root user.",
        ("1.26", "1.26.0", "latest"),
        ("amd64", "arm64"),
        ("stig", "non-root"),
        "nginx-1.26.spdx.json",
    ),
    DemoImage(
        "node",
        "Node.js 20 LTS on a distroless Debian 12 base.",
        ("20", "20.12.2", "lts"),
        ("amd64",),
        ("distroless", "non-root"),
        "node-20.cdx.json",
    ),
    DemoImage(
        "static",
        "A distroless static base: CA certificates, tzdata and nothing else.",
        ("debian12", "latest"),
        ("amd64", "arm64"),
        ("distroless", "non-root", "stig"),
        "static-debian12.spdx.json",
    ),
)


def demo_sbom(file_name: str) -> bytes:
    return (resources.files(SBOM_PACKAGE) / file_name).read_bytes()


async def seed_demo_catalog(
    runtime: Runtime, session: AsyncSession, actor: Actor, tenant_slug: str
) -> list[str]:
    """Publishes what is missing and grants every demo image to the tenant; returns the image names."""
    catalog = CatalogService(session, runtime.clock)
    for demo in DEMO_IMAGES:
        if await catalog.version_by_digest(demo.name, demo.digest) is None:
            await PublishingService(session, runtime.clock).publish(
                actor,
                PublishRequest(
                    name=demo.name,
                    repository=f"registry.example.com/hardened/{demo.name}",
                    digest=demo.digest,
                    tags=demo.tags,
                    sbom=demo_sbom(demo.sbom_file),
                    architectures=demo.architectures,
                    hardening_tags=demo.hardening,
                    description=demo.description,
                ),
            )
        await catalog.grant(actor, tenant_slug, demo.name)
    return [demo.name for demo in DEMO_IMAGES]
