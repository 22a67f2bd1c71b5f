"""`portal advisories import` through the real command line, on SQLite and PostgreSQL."""

import json
from pathlib import Path

import httpx
from sqlalchemy import func, select

from portal.advisories.models import Advisory, AdvisoryPackage
from portal.config import Settings
from portal.runtime import Runtime
from tests.advisories.factories import osv_record, write_folder, write_zip
from tests.operator import operator_cli, run_async
from tests.shared_fixtures import fixtures_dir

FEEDS = ("go-vulndb.zip", "pypi-pysec.zip", "wolfi.zip")


async def _import(settings: Settings, *paths: Path, ok: bool = True) -> dict[str, object]:
    output = await run_async(
        operator_cli(settings), "advisories", "import", *map(str, paths), "--json", ok=ok
    )
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


async def _count(runtime: Runtime) -> int:
    async with runtime.db.transaction() as session:
        return int((await session.execute(select(func.count(Advisory.id)))).scalar_one())


async def test_the_three_fixture_feeds_import_and_a_reimport_changes_nothing(
    settings: Settings, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    status = (await client.get("/api/status")).json()
    assert status["checks"]["advisories"] == "empty"

    result = await _import(settings, *(fixtures_dir() / "osv" / name for name in FEEDS))

    assert result["failed"] == 0
    assert result["imported"] == await _count(runtime) > 30_000
    assert result["updated"] == 0
    # the feeds withdraw a few advisories of their own; those are kept but match nothing
    assert isinstance(result["withdrawn"], int) and result["withdrawn"] > 0
    async with runtime.db.transaction() as session:
        withdrawn_packages = await session.execute(
            select(func.count())
            .select_from(AdvisoryPackage)
            .join(Advisory, Advisory.id == AdvisoryPackage.advisory_id)
            .where(Advisory.withdrawn.is_not(None))
        )
        assert withdrawn_packages.scalar_one() == 0
    assert (await client.get("/api/status")).json()["checks"]["advisories"] == "ok"

    again = await _import(settings, fixtures_dir() / "osv" / "pypi-pysec.zip")
    assert again["imported"] == again["updated"] == again["failed"] == 0
    assert isinstance(again["unchanged"], int) and again["unchanged"] > 1000


async def test_a_newer_modified_replaces_and_the_same_or_older_is_skipped(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    first = write_folder(tmp_path / "v1", osv_record("TEST-1", summary="first"), osv_record("TEST-2"))
    assert await _import(settings, first) | {"failures": []} == {
        "imported": 2,
        "updated": 0,
        "unchanged": 0,
        "withdrawn": 0,
        "failed": 0,
        "failures": [],
        "rescansQueued": 0,
    }
    newer = osv_record("TEST-1", summary="second", modified="2024-02-01T00:00:00Z")
    older = osv_record("TEST-2", summary="older", modified="2023-01-01T00:00:00Z")
    result = await _import(settings, write_folder(tmp_path / "v2", newer, older))
    assert (result["imported"], result["updated"], result["unchanged"]) == (0, 1, 1)

    async with runtime.db.transaction() as session:
        summaries = dict((await session.execute(select(Advisory.id, Advisory.summary))).all())
    assert summaries == {"TEST-1": "second", "TEST-2": "A test advisory"}

    gone = osv_record("TEST-1", modified="2024-03-01T00:00:00Z", withdrawn="2024-03-01T00:00:00Z")
    result = await _import(settings, write_zip(tmp_path / "withdrawn.zip", gone))
    assert (result["updated"], result["withdrawn"]) == (1, 1)


async def test_a_malformed_record_is_reported_with_its_file_and_skipped(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    archive = write_zip(
        tmp_path / "feed.zip",
        osv_record("GOOD-1"),
        osv_record("GOOD-2"),
        {"id": "BAD-1", "modified": "yesterday"},  # type: ignore[arg-type]
        extra={"broken.json": "{not json"},
    )

    result = await _import(settings, archive)

    assert (result["imported"], result["failed"]) == (2, 2)
    failures = {f["source"]: f["reason"] for f in result["failures"]}  # type: ignore[attr-defined]
    assert "modified is not an RFC 3339 timestamp" in failures[f"{archive}:BAD-1.json"]
    assert "not valid JSON" in failures[f"{archive}:broken.json"]
    assert await _count(runtime) == 2

    human = await run_async(operator_cli(settings), "advisories", "import", str(archive))
    assert "BAD-1.json" in human and "broken.json" in human
    assert "0 imported, 0 updated, 2 unchanged, 0 withdrawn, 2 failed" in human


async def test_a_file_that_is_no_advisory_says_so_and_a_missing_path_or_empty_folder_fails(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    folder = write_folder(tmp_path / "mixed", osv_record("GOOD-1"), extra={"package.json": '{"name": "x"}'})
    result = await _import(settings, folder)
    failures = {f["source"]: f["reason"] for f in result["failures"]}  # type: ignore[attr-defined]
    assert failures == {f"{folder}:package.json": "not an OSV record: no id and no affected"}

    missing = await run_async(
        operator_cli(settings), "advisories", "import", str(folder), str(tmp_path / "nope.zip"), ok=False
    )
    assert "nope.zip: no such file or folder" in missing
    (tmp_path / "empty").mkdir()
    empty = await run_async(operator_cli(settings), "advisories", "import", str(tmp_path / "empty"), ok=False)
    assert "nothing to import" in empty
    assert await _count(runtime) == 1  # neither failed command stored anything


async def test_a_corrupt_archive_is_reported_and_the_other_sources_still_import(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    good = write_zip(tmp_path / "good.zip", osv_record("GOOD-1"))
    whole = write_zip(tmp_path / "whole.zip", *(osv_record(f"CUT-{i}") for i in range(50)))
    damaged = tmp_path / "damaged.zip"
    data = bytearray(whole.read_bytes())
    data[40:400] = b"\xff" * 360  # the first members' bytes are garbage; the directory still reads
    damaged.write_bytes(bytes(data))

    result = await _import(settings, damaged, good)

    failures = {f["source"]: f["reason"] for f in result["failures"]}  # type: ignore[attr-defined]
    assert any(source.startswith(str(damaged)) for source in failures), failures
    assert await _count(runtime) >= 1 + 40  # the good feed, and what of the damaged one was readable
