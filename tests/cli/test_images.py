"""`portal images ...` end to end: the real command line against each database, through CliRunner."""

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import Result

from portal.catalog.models import Image, ImageVersion, VersionSbom
from portal.cli.main import app
from portal.config import Settings
from portal.runtime import Runtime
from portal.sbom import MAX_SBOM_BYTES, parse_sbom
from tests.catalog.factories import digest_of, small_sbom
from tests.factories import make_tenant
from tests.operator import operator_cli
from tests.shared_fixtures import fixtures_dir


async def portal(settings: Settings, *args: str) -> Result:
    """Runs the command in a thread: it runs its own event loop, as it does from a shell."""
    return await asyncio.to_thread(operator_cli(settings).invoke, app, list(args))


def _publish_args(path: Path, name: str = "python", digest: str | None = None) -> list[str]:
    return [
        "images",
        "publish",
        "--name",
        name,
        "--repository",
        f"registry.example.com/{name}",
        "--tag",
        "3.12",
        "--tag",
        "latest",
        "--digest",
        digest or digest_of(path.name + name),
        "--arch",
        "amd64",
        "--arch",
        "arm64",
        "--hardening",
        "fips",
        "--hardening",
        "non-root",
        "--sbom",
        str(path),
    ]


async def _stored_rows(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.db.sessions() as session:
        counts = []
        for model in (Image, ImageVersion, VersionSbom):
            counts.append((await session.execute(select(func.count()).select_from(model))).scalar_one())
    return counts[0], counts[1], counts[2]


def _fixtures(*parts: str) -> list[Path]:
    return sorted(fixtures_dir().joinpath(*parts).glob("*.json"))


async def test_every_fixture_sbom_publishes(settings: Settings, runtime: Runtime) -> None:
    for index, path in enumerate(_fixtures("sboms")):
        result = await portal(settings, *_publish_args(path, f"image-{index}"), "--json")

        assert (path.name, result.exit_code) == (path.name, 0), result.output
        printed = json.loads(result.stdout)
        assert set(printed) == {
            "imageId",
            "versionId",
            "componentCount",
            "tags",
            "repository",
            "movedTags",
            "previousRepository",
            "republished",
        }
        assert printed["componentCount"] == len(parse_sbom(path.read_bytes()).components)
    count = len(_fixtures("sboms"))
    assert await _stored_rows(runtime) == (count, count, count)


async def test_every_invalid_document_is_refused_naming_its_problems_and_nothing_is_stored(
    settings: Settings, runtime: Runtime
) -> None:
    invalid = _fixtures("sboms", "invalid") + _fixtures("cyclonedx-1.5-conformance", "invalid")
    assert len(invalid) > 10
    for path in invalid:
        result = await portal(settings, *_publish_args(path))

        assert (path.name, result.exit_code) == (path.name, 1)
        assert "The SBOM was refused" in result.stderr
        try:
            parse_sbom(path.read_bytes())
        except Exception as error:
            for problem in getattr(error, "problems", [])[:100]:
                assert f"{problem.path}: " in result.stderr, (path.name, problem.path, result.stderr)
        else:
            pytest.fail(f"{path.name} was read")
    assert await _stored_rows(runtime) == (0, 0, 0)


async def test_a_file_that_is_not_json_or_too_large_is_refused(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    not_json = tmp_path / "sbom.json"
    not_json.write_text("<xml/>")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(MAX_SBOM_BYTES + 1)  # sparse: refused by its size, never read

    refused_json = await portal(settings, *_publish_args(not_json))
    refused_size = await portal(settings, *_publish_args(huge))
    missing = await portal(settings, *_publish_args(tmp_path / "missing.json"))

    assert refused_json.exit_code == 1 and "$: not JSON" in refused_json.stderr
    assert refused_size.exit_code == 1 and "at most 104857600" in refused_size.stderr
    assert missing.exit_code == 1 and "missing.json" in missing.stderr
    assert await _stored_rows(runtime) == (0, 0, 0)


async def test_a_bad_digest_and_a_duplicate_digest_are_clear_errors(
    settings: Settings, tmp_path: Path
) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_bytes(small_sbom())
    digest = digest_of("once")

    bad = await portal(settings, *_publish_args(sbom, digest="sha256:ABC"))
    first = await portal(settings, *_publish_args(sbom, digest=digest))
    again = await portal(settings, *_publish_args(sbom, digest=digest))

    assert bad.exit_code == 1 and "digest: 'sha256:ABC' is not a digest" in bad.stderr
    assert first.exit_code == 0, first.output
    assert "Published python:3.12,latest" in first.stdout and "(new image)" in first.stdout
    assert again.exit_code == 1 and f"already has a version with digest {digest}" in again.stderr


async def test_grant_revoke_list_and_unpublish(settings: Settings, runtime: Runtime, tmp_path: Path) -> None:
    tenant = await make_tenant(runtime, "globex")
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_bytes(small_sbom())
    digest = digest_of("v1")
    assert (await portal(settings, *_publish_args(sbom, digest=digest))).exit_code == 0

    granted = await portal(settings, "images", "grant", "--tenant", tenant.slug, "--image", "python")
    again = await portal(settings, "images", "grant", "--tenant", tenant.slug, "--image", "python", "--json")
    unknown = await portal(settings, "images", "grant", "--tenant", tenant.slug, "--image", "ruby")
    listed = await portal(settings, "images", "list", "--json")
    table = await portal(settings, "images", "list")

    assert granted.exit_code == 0 and "Granted python to globex" in granted.stdout
    assert json.loads(again.stdout)["created"] is False
    assert unknown.exit_code == 1 and "No image 'ruby'" in unknown.stderr
    [item] = json.loads(listed.stdout)["items"]
    assert item["name"] == "python" and item["tenants"] == ["globex"]
    assert item["latestVersion"]["digest"] == digest
    assert item["latestVersion"]["hardeningTags"] == ["fips", "non-root"]
    assert (item["publishedVersions"], item["allVersions"]) == (1, 1)
    assert "python" in table.stdout and "globex" in table.stdout

    unpublished = await portal(
        settings, "images", "unpublish", "--image", "python", "--digest", digest, "--json"
    )
    assert unpublished.exit_code == 0 and json.loads(unpublished.stdout)["digest"] == digest
    [item] = json.loads((await portal(settings, "images", "list", "--json")).stdout)["items"]
    assert item["latestVersion"] is None and (item["publishedVersions"], item["allVersions"]) == (0, 1)

    revoked = await portal(settings, "images", "revoke", "--tenant", tenant.slug, "--image", "python")
    revoked_again = await portal(settings, "images", "revoke", "--tenant", tenant.slug, "--image", "python")
    assert revoked.exit_code == 0 and "Revoked python from globex" in revoked.stdout
    assert revoked_again.exit_code == 1 and "has no grant" in revoked_again.stderr


async def test_publish_says_which_tags_moved_and_refuses_a_silent_repository_change(
    settings: Settings, tmp_path: Path
) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_bytes(small_sbom())
    first = json.loads((await portal(settings, *_publish_args(sbom, digest=digest_of("1")), "--json")).stdout)

    second = await portal(settings, *_publish_args(sbom, digest=digest_of("2")))
    elsewhere = [*_publish_args(sbom, digest=digest_of("3")), "--repository", "mirror.example.com/python"]
    refused = await portal(settings, *elsewhere)
    moved = await portal(settings, *elsewhere, "--move-repository", "--json")

    assert second.exit_code == 0, second.output
    for tag in ("3.12", "latest"):
        assert (
            f"Moved tag {tag} from version {first['versionId']} ({digest_of('1')}), which has no tags left"
            in (second.stdout)
        )
    assert refused.exit_code == 1
    assert "Image python is pulled from registry.example.com/python" in refused.stderr
    assert "--move-repository" in refused.stderr and refused.stdout == ""
    assert moved.exit_code == 0, moved.output
    answer = json.loads(moved.stdout)
    assert (answer["repository"], answer["previousRepository"]) == (
        "mirror.example.com/python",
        "registry.example.com/python",
    )
    assert [m["tag"] for m in answer["movedTags"]] == ["3.12", "latest"]
    [item] = json.loads((await portal(settings, "images", "list", "--json")).stdout)["items"]
    assert item["repository"] == "mirror.example.com/python"


async def test_an_unpublished_version_comes_back_with_republish(settings: Settings, tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_bytes(small_sbom())
    digest = digest_of("back")
    assert (await portal(settings, *_publish_args(sbom, digest=digest))).exit_code == 0
    assert (
        await portal(settings, "images", "unpublish", "--image", "python", "--digest", digest)
    ).exit_code == 0

    again = await portal(settings, *_publish_args(sbom, digest=digest))
    back = await portal(settings, "images", "republish", "--image", "python", "--digest", digest)
    twice = await portal(settings, "images", "republish", "--image", "python", "--digest", digest)

    assert again.exit_code == 1
    assert f"`portal images republish --image python --digest {digest}`" in again.stderr
    assert back.exit_code == 0, back.output
    assert f"Republished python:3.12,latest ({digest})" in back.stdout
    assert twice.exit_code == 1 and "is published already" in twice.stderr
    [item] = json.loads((await portal(settings, "images", "list", "--json")).stdout)["items"]
    assert (item["publishedVersions"], item["latestVersion"]["digest"]) == (1, digest)
