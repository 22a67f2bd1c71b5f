"""What the command line prints: lines that survive a pipe, and one JSON object with --json."""

import json
from pathlib import Path

from typer.testing import CliRunner

from portal.config import Settings
from tests.catalog.factories import digest_of, small_sbom
from tests.operator import operator_cli, run

LONG_NAME = "Globex Corporation, Hardened Images Division, " * 4


def _publish(portal: CliRunner, sbom: Path, *extra: str) -> str:
    args = ["images", "publish", "--name", "python", "--repository", "registry.example.com/python"]
    return run(portal, *args, "--tag", "3.12", "--digest", digest_of("python"), "--sbom", str(sbom), *extra)


def test_lines_are_never_hard_wrapped_in_a_pipe(settings: Settings, tmp_path: Path) -> None:
    portal = operator_cli(settings)
    run(portal, "tenants", "create", "globex", "--name", LONG_NAME)
    sbom = tmp_path / "python.cdx.json"
    sbom.write_bytes(small_sbom())

    published = _publish(portal, sbom)
    listed = run(portal, "tenants", "list")

    assert len(published.splitlines()) == 1 and digest_of("python") in published
    assert any(LONG_NAME.strip() in line for line in listed.splitlines())


def test_json_is_one_object_on_one_line(settings: Settings, tmp_path: Path) -> None:
    portal = operator_cli(settings)
    sbom = tmp_path / "python.cdx.json"
    sbom.write_bytes(small_sbom())
    outputs = [
        run(portal, "tenants", "create", "globex", "--name", "Globex", "--json"),
        _publish(portal, sbom, "--json"),
        run(portal, "images", "grant", "--tenant", "globex", "--image", "python", "--json"),
        run(portal, "images", "list", "--json"),
        run(portal, "tenants", "list", "--json"),
        run(portal, "db", "status", "--json"),
        run(portal, "db", "upgrade", "--json"),
        run(portal, "requests", "list", "--json"),
        run(portal, "scan", "--json"),
    ]
    for output in outputs:
        assert output.count("\n") == 1, output
        assert isinstance(json.loads(output), dict)


def test_help_shows_option_names_not_type_tags(settings: Settings) -> None:
    portal = operator_cli(settings)
    for args in (
        ["images", "publish"],
        ["users", "create"],
        ["db"],
        [],
        ["requests", "show"],
        ["images", "diff"],
    ):
        text = run(portal, *args, "--help")
        assert "<" not in text.replace("<64 hex>", ""), text
        assert "╭" not in text and "{" not in text
    publish = run(portal, "images", "publish", "--help")
    assert "--tag TAG" in publish and "--sbom SBOM" in publish
    assert "--role [viewer|user|admin]" in run(portal, "users", "create", "--help")
    diff = run(portal, "images", "diff", "--help")
    assert "images diff [OPTIONS] IMAGE FROM TO\n" in diff
    assert "  FROM   A tag or digest of the older version." in diff
