import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.vulns import AdvisoryError, iter_advisories, iter_osv_source, parse_advisory
from tests.shared_fixtures import fixtures_dir
from tests.vulns.factories import ecosystem_range, osv_record


def test_parses_a_record() -> None:
    record = osv_record(
        ranges=[
            ecosystem_range(("introduced", "0"), ("fixed", "1.2")),
            {"type": "GIT", "events": [{"introduced": "abc"}]},
        ],
        versions=["1.0", "1.1"],
        summary=" Boom ",
        published="2024-01-01T00:00:00Z",
    )
    advisory = parse_advisory(record)
    assert advisory.id == "TEST-1"
    assert advisory.modified == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert advisory.published == datetime(2024, 1, 1, tzinfo=UTC)
    assert advisory.withdrawn is None
    assert advisory.summary == "Boom"
    assert advisory.severity == "unknown"
    assert advisory.cvss_score is None
    (affected,) = advisory.affected
    assert (affected.ecosystem, affected.name, affected.versions) == ("PyPI", "demo", ("1.0", "1.1"))
    assert affected.fixed_versions == ("1.2",)
    assert [r.type for r in affected.ranges] == ["ECOSYSTEM", "GIT"]
    assert affected.ranges[0].events == (("introduced", "0"), ("fixed", "1.2"))


def test_severity_from_cvss_v3_vector() -> None:
    record = osv_record(
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    )
    advisory = parse_advisory(record)
    assert (advisory.severity, advisory.cvss_score) == ("critical", 9.8)


def test_severity_from_cvss_v4_vector() -> None:
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    advisory = parse_advisory(osv_record(severity=[{"type": "CVSS_V4", "score": vector}]))
    assert (advisory.severity, advisory.cvss_score) == ("critical", 9.3)


@pytest.mark.parametrize(("word", "expected"), [("HIGH", "high"), ("MODERATE", "medium"), ("Low", "low")])
def test_severity_from_the_feed_word(word: str, expected: str) -> None:
    advisory = parse_advisory(osv_record(database_specific={"severity": word}))
    assert (advisory.severity, advisory.cvss_score) == (expected, None)


def test_severity_from_ecosystem_specific_and_never_guessed() -> None:
    record = osv_record()
    record["affected"][0]["ecosystem_specific"] = {"severity": "medium"}
    assert parse_advisory(record).severity == "medium"
    unreadable = osv_record(severity=[{"type": "CVSS_V3", "score": "not a vector"}], database_specific={})
    assert parse_advisory(unreadable).severity == "unknown"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id is missing"),
        ({"modified": "yesterday"}, "modified is not an RFC 3339 timestamp"),
        ({"affected": [{"package": {"ecosystem": "PyPI"}}]}, "package.name is missing"),
        (
            {"affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [{"type": "X"}]}]},
            "type must be",
        ),
        ({"aliases": "CVE-1"}, "aliases must be a list"),
    ],
)
def test_malformed_records_say_why(change: dict[str, object], reason: str) -> None:
    record = osv_record(ranges=[ecosystem_range(("introduced", "0"))])
    record.update(change)
    with pytest.raises(AdvisoryError, match=reason):
        parse_advisory(record)


def test_range_without_events_is_malformed() -> None:
    with pytest.raises(AdvisoryError, match="events"):
        parse_advisory(osv_record(ranges=[{"type": "ECOSYSTEM", "events": []}]))


def test_reads_files_folders_and_zips(tmp_path: Path) -> None:
    folder = tmp_path / "feed" / "nested"
    folder.mkdir(parents=True)
    (folder / "A-1.json").write_text(json.dumps(osv_record("A-1")))
    (folder / "B-2.json").write_text("{not json")
    (tmp_path / "feed" / "ignored.txt").write_text("x")
    from_folder = list(iter_osv_source(tmp_path / "feed"))
    assert [name for name, _ in from_folder] == ["nested/A-1.json", "nested/B-2.json"]
    assert isinstance(from_folder[0][1], dict)
    assert isinstance(from_folder[1][1], AdvisoryError)

    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Z-9.json", json.dumps(osv_record("Z-9")))
        zipped.writestr("A-1.json", json.dumps(osv_record("A-1", modified="bad")))
    parsed = list(iter_advisories(archive))
    assert [name for name, _ in parsed] == ["A-1.json", "Z-9.json"]
    assert isinstance(parsed[0][1], AdvisoryError)
    assert not isinstance(parsed[1][1], AdvisoryError) and parsed[1][1].id == "Z-9"

    single = tmp_path / "one.json"
    single.write_text(json.dumps(osv_record("S-1")))
    assert [name for name, _ in iter_osv_source(single)] == ["one.json"]


@pytest.mark.parametrize("feed", ["pypi-pysec.zip", "go-vulndb.zip", "wolfi.zip"])
def test_every_shipped_record_parses(feed: str) -> None:
    results = list(iter_advisories(fixtures_dir() / "osv" / feed))
    errors = [(name, item) for name, item in results if isinstance(item, AdvisoryError)]
    assert results and not errors


def test_real_severities_come_from_vectors() -> None:
    by_id = {
        item.id: item
        for _, item in iter_advisories(fixtures_dir() / "osv" / "pypi-pysec.zip")
        if not isinstance(item, AdvisoryError)
    }
    # PYSEC-2017-105 carries CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N
    assert (by_id["PYSEC-2017-105"].severity, by_id["PYSEC-2017-105"].cvss_score) == ("high", 7.5)
    assert by_id["PYSEC-2019-144"].withdrawn == datetime(2022, 9, 9, 5, 28, tzinfo=UTC)
