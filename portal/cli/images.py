"""`portal images`. Publishing (the SBOM readers, the scan queue) is imported by the commands that
publish: listing, granting and revoking load only the catalog's reads."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalog.models import ImageVersion
from portal.catalog.service import CatalogService, ImageOverview
from portal.cli.context import JsonOption, console, fail, operator, report, run_in_transaction
from portal.kit.clock import rfc3339
from portal.runtime import Runtime
from portal.sbom.model import MAX_SBOM_BYTES

if TYPE_CHECKING:
    from portal.catalog.publishing import Published

app = typer.Typer(no_args_is_help=True, add_completion=False)

ImageOption = typer.Option(..., "--image", help="The image's name, e.g. python.")
TenantOption = typer.Option(..., "--tenant", help="The tenant's slug.")


def read_sbom_file(path: Path) -> bytes:
    """The file's bytes; one over the size limit is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_SBOM_BYTES:
            fail(f"{path}: the SBOM is {size} bytes; at most {MAX_SBOM_BYTES} (100 MB) are accepted")
        return path.read_bytes()
    except OSError as error:
        fail(f"{path}: {error.strerror or error}")


@app.command("publish")
def publish(
    name: str = typer.Option(..., "--name", help="The image's name; its first publish creates it."),
    repository: str = typer.Option(
        ..., "--repository", help="Where to pull it, e.g. registry.example.com/python."
    ),
    tags: list[str] = typer.Option(..., "--tag", help="A tag of this version (repeat for several)."),
    digest: str = typer.Option(..., "--digest", help="The manifest digest, sha256:<64 hex>."),
    sbom: Path = typer.Option(..., "--sbom", help="CycloneDX 1.4-1.7 or SPDX 2.2-2.3 JSON, as built."),
    architectures: list[str] = typer.Option([], "--arch", help="An architecture, e.g. amd64 (repeat)."),
    hardening: list[str] = typer.Option([], "--hardening", help="A hardening tag, e.g. fips (repeat)."),
    description: str | None = typer.Option(None, "--description", help="What the image is."),
    move_repository: bool = typer.Option(
        False,
        "--move-repository",
        help="Let --repository differ from the image's: every version of the image moves there.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Publish an image version from the SBOM its build produced. Tenants granted the image see it. Its
    tags move to it from the image's other versions (a tag names one version at a time)."""
    from portal.catalog.labels import PublishRequest
    from portal.catalog.publishing import PublishingService

    request = PublishRequest(
        name=name,
        repository=repository,
        digest=digest,
        tags=tuple(tags),
        sbom=read_sbom_file(sbom),
        architectures=tuple(architectures),
        hardening_tags=tuple(hardening),
        description=description,
        move_repository=move_repository,
    )

    async def work(runtime: Runtime, session: AsyncSession) -> "Published":
        return await PublishingService(session, runtime.clock).publish(operator(), request)

    published = run_in_transaction(work)
    version = published.version
    lines = [
        f"Published {published.image.name}:{','.join(version.tags)} ({version.digest}) with "
        f"{version.component_count} components from {version.source_format}; version {version.id}"
        + (" (new image)" if published.created_image else "")
        + "; its scan is queued",
        *_changes(published),
    ]
    report(as_json, _published_json(published), "\n".join(lines))


@app.command("republish")
def republish(
    image: str = ImageOption,
    digest: str = typer.Option(..., "--digest", help="The unpublished version's digest."),
    tags: list[str] = typer.Option(
        [], "--tag", help="Its tags from now on (repeat); without it, the tags it kept."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Bring an unpublished version back: the same version, SBOM and scan history. Its tags move to it
    from the image's other versions."""
    from portal.catalog.publishing import PublishingService

    async def work(runtime: Runtime, session: AsyncSession) -> "Published":
        return await PublishingService(session, runtime.clock).republish(
            operator(), image, digest, tags or None
        )

    published = run_in_transaction(work)
    version = published.version
    lines = [
        f"Republished {image}:{','.join(version.tags) or '(no tags)'} ({version.digest}); "
        f"version {version.id}; its scan is queued",
        *_changes(published),
    ]
    report(as_json, _published_json(published), "\n".join(lines))


def _changes(published: "Published") -> list[str]:
    """What else a publish changed, a line each: the tags it moved, the repository it moved."""
    lines = [
        f"Moved tag {move.tag} from version {move.from_version.id} ({move.from_version.digest})"
        + ("" if move.from_version.tags else ", which has no tags left")
        for move in published.moved_tags
    ]
    if published.previous_repository is not None:
        lines.append(
            f"Moved {published.image.name} from {published.previous_repository} to "
            f"{published.image.repository} (every version)"
        )
    return lines


def _published_json(published: "Published") -> dict[str, Any]:
    version = published.version
    return {
        "imageId": published.image.id,
        "versionId": version.id,
        "componentCount": version.component_count,
        "tags": version.tags,
        "repository": published.image.repository,
        "movedTags": [
            {"tag": move.tag, "fromVersionId": move.from_version.id, "fromDigest": move.from_version.digest}
            for move in published.moved_tags
        ],
        "previousRepository": published.previous_repository,
        "republished": published.republished,
    }


@app.command("unpublish")
def unpublish(
    image: str = ImageOption,
    digest: str = typer.Option(..., "--digest", help="The version's digest."),
    as_json: bool = JsonOption,
) -> None:
    """Withdraw a version: tenants no longer see it; its record and scans stay."""
    from portal.catalog.publishing import PublishingService

    async def work(runtime: Runtime, session: AsyncSession) -> ImageVersion:
        return await PublishingService(session, runtime.clock).unpublish(operator(), image, digest)

    version = run_in_transaction(work)
    report(
        as_json,
        {
            "versionId": version.id,
            "digest": version.digest,
            "unpublishedAt": rfc3339(version.unpublished_at) if version.unpublished_at else None,
        },
        f"Unpublished {image}@{version.digest} (version {version.id})",
    )


@app.command("grant")
def grant(tenant: str = TenantOption, image: str = ImageOption, as_json: bool = JsonOption) -> None:
    """Let a tenant see an image (idempotent)."""

    async def work(runtime: Runtime, session: AsyncSession) -> bool:
        _entitlement, created = await CatalogService(session, runtime.clock).grant(operator(), tenant, image)
        return created

    created = run_in_transaction(work)
    human = f"Granted {image} to {tenant}" if created else f"{tenant} already had {image}"
    report(as_json, {"tenant": tenant, "image": image, "granted": True, "created": created}, human)


@app.command("revoke")
def revoke(tenant: str = TenantOption, image: str = ImageOption, as_json: bool = JsonOption) -> None:
    """Take an image away from a tenant: it answers 404 to them from now on."""

    async def work(runtime: Runtime, session: AsyncSession) -> None:
        await CatalogService(session, runtime.clock).revoke(operator(), tenant, image)

    run_in_transaction(work)
    report(as_json, {"tenant": tenant, "image": image, "granted": False}, f"Revoked {image} from {tenant}")


def _overview_json(entry: ImageOverview) -> dict[str, Any]:
    latest = entry.latest
    return {
        "id": entry.image.id,
        "name": entry.image.name,
        "repository": entry.image.repository,
        "description": entry.image.description,
        "latestVersion": None
        if latest is None
        else {
            "id": latest.id,
            "tags": latest.tags,
            "digest": latest.digest,
            "hardeningTags": latest.hardening_tags,
            "componentCount": latest.component_count,
            "publishedAt": rfc3339(latest.published_at),
        },
        "publishedVersions": entry.published_versions,
        "allVersions": entry.all_versions,
        "tenants": entry.tenants,
    }


@app.command("list")
def list_images(as_json: bool = JsonOption) -> None:
    """List every image: its latest published version, version counts, and the tenants granted it."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[ImageOverview]:
        return await CatalogService(session, runtime.clock).overview()

    entries = run_in_transaction(work)
    if as_json:
        report(True, {"items": [_overview_json(entry) for entry in entries]}, "")
        return
    table = Table("name", "latest tags", "digest", "hardening", "versions", "tenants")
    for entry in entries:
        latest = entry.latest
        table.add_row(
            entry.image.name,
            ", ".join(latest.tags) if latest else "(none published)",
            latest.digest[:19] + "…" if latest else "",
            ", ".join(latest.hardening_tags) if latest else "",
            f"{entry.published_versions}/{entry.all_versions}",
            ", ".join(entry.tenants),
        )
    console.print(table)


@app.command("diff")
def diff(
    image: str = typer.Argument(..., help="The image's name."),
    before: str = typer.Argument(..., metavar="FROM", help="A tag or digest of the older version."),
    after: str = typer.Argument(..., metavar="TO", help="A tag or digest of the newer version."),
    as_json: bool = JsonOption,
) -> None:
    """What changed between two versions: packages added, removed and upgraded (from -> to),
    vulnerabilities fixed, introduced and still open (latest scans, vendor VEX applied), hardening tags."""
    from portal.scanning.diff import DiffService
    from portal.scanning.schemas import diff_out

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        found = await DiffService(session, runtime.clock).for_operator(image, before, after)
        return diff_out(found).model_dump(mode="json", by_alias=True)

    out = run_in_transaction(work)
    packages, vulnerabilities = out["packages"], out["vulnerabilities"]
    lines = [f"{image} {before} -> {after}"]
    lines += [f"  + {p['name']} {p['toVersion'] or ''}".rstrip() for p in packages["added"]]
    lines += [f"  - {p['name']} {p['fromVersion'] or ''}".rstrip() for p in packages["removed"]]
    lines += [f"  ~ {p['name']} {p['fromVersion']} -> {p['toVersion']}" for p in packages["changed"]]
    tags = out["hardeningTags"]
    lines += [f"  hardening + {tag}" for tag in tags["added"]] + [
        f"  hardening - {tag}" for tag in tags["removed"]
    ]
    if vulnerabilities is None:
        lines.append("  vulnerabilities: not both versions are scanned yet")
    else:
        for word, key in (("fixed", "fixed"), ("introduced", "introduced"), ("still open", "stillOpen")):
            ids = [v["vulnerabilityId"] for v in vulnerabilities[key]]
            lines.append(
                f"  {len(ids)} {word}" + (f": {', '.join(ids)}" if ids and key != "stillOpen" else "")
            )
    counts = {key: len(packages[key]) for key in ("added", "removed", "changed")}
    lines.append(
        f"packages: {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed"
    )
    report(as_json, out, "\n".join(lines))
