import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from portal.vulns import Advisory, AdvisoryIndex, Match, iter_advisories, parse_advisory
from tests.shared_fixtures import fixtures_dir
from tests.vulns.factories import ecosystem_range, osv_record


def _index(*records: dict[str, Any]) -> AdvisoryIndex:
    return AdvisoryIndex(parse_advisory(record) for record in records)


def _ids(matches: list[Match]) -> list[str]:
    return [match.advisory_id for match in matches]


def _fixed(index: AdvisoryIndex, version: str, ecosystem: str = "PyPI", name: str = "demo") -> str | None:
    (match,) = index.match(ecosystem, name, version)
    return match.fixed_version


INTRODUCED_FIXED = _index(osv_record(ranges=[ecosystem_range(("introduced", "1.0"), ("fixed", "1.5"))]))


@pytest.mark.parametrize(
    ("version", "affected"), [("0.9", False), ("1.0", True), ("1.4.9", True), ("1.5", False)]
)
def test_introduced_and_fixed(version: str, affected: bool) -> None:
    assert bool(INTRODUCED_FIXED.match("PyPI", "demo", version)) is affected


def test_introduced_zero_means_from_the_beginning() -> None:
    index = _index(osv_record(ranges=[ecosystem_range(("introduced", "0"), ("fixed", "2.0"))]))
    assert _fixed(index, "0.0.1") == "2.0"
    assert index.match("PyPI", "demo", "2.0") == []


def test_open_range_has_no_fix() -> None:
    index = _index(osv_record(ranges=[ecosystem_range(("introduced", "3.0"))]))
    assert _fixed(index, "99") is None
    assert index.match("PyPI", "demo", "2.9") == []


@pytest.mark.parametrize(("version", "affected"), [("1.0", True), ("1.3", True), ("1.3.1", False)])
def test_last_affected_is_inclusive(version: str, affected: bool) -> None:
    index = _index(osv_record(ranges=[ecosystem_range(("introduced", "1.0"), ("last_affected", "1.3"))]))
    assert bool(index.match("PyPI", "demo", version)) is affected


@pytest.mark.parametrize(("version", "affected"), [("1.9", True), ("2.0", False), ("2.5", False)])
def test_limit_stops_the_range(version: str, affected: bool) -> None:
    index = _index(osv_record(ranges=[ecosystem_range(("introduced", "1.0"), ("limit", "2.0"))]))
    assert bool(index.match("PyPI", "demo", version)) is affected


def test_several_pairs_in_one_range_are_sorted_by_version() -> None:
    # as PYSEC-2023-192 ships them: the 2.x pair first, then the pair from the beginning
    events = (("introduced", "2.0.0"), ("fixed", "2.0.6"), ("introduced", "0"), ("fixed", "1.26.17"))
    index = _index(osv_record(ranges=[ecosystem_range(*events)]))
    assert _fixed(index, "1.26.4") == "1.26.17"
    assert _fixed(index, "2.0.1") == "2.0.6"
    assert index.match("PyPI", "demo", "1.26.17") == []
    assert index.match("PyPI", "demo", "2.0.6") == []


def test_several_ranges() -> None:
    index = _index(
        osv_record(
            ranges=[
                ecosystem_range(("introduced", "1.0"), ("fixed", "1.2")),
                ecosystem_range(("introduced", "3.0"), ("fixed", "3.1")),
            ]
        )
    )
    assert _fixed(index, "1.1") == "1.2"
    assert _fixed(index, "3.0.5") == "3.1"
    assert index.match("PyPI", "demo", "2.0") == []


def test_versions_list_matches_exactly() -> None:
    index = _index(osv_record(versions=["1.0", "1.1"]))
    assert _ids(index.match("PyPI", "demo", "1.1")) == ["TEST-1"]
    assert _ids(index.match("PyPI", "demo", "1.1.0")) == ["TEST-1"]  # equal under PEP 440
    assert index.match("PyPI", "demo", "1.2") == []


def test_withdrawn_advisories_never_match() -> None:
    record = osv_record(ranges=[ecosystem_range(("introduced", "0"))], withdrawn="2024-02-01T00:00:00Z")
    assert _index(record).match("PyPI", "demo", "1.0") == []


def test_git_ranges_are_ignored() -> None:
    index = _index(osv_record(ranges=[{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}]))
    assert index.match("PyPI", "demo", "1.0") == []


def test_unparseable_versions_skip_the_range_without_crashing() -> None:
    broken = osv_record(
        "BAD-1", ecosystem="npm", ranges=[ecosystem_range(("introduced", "0"), ("fixed", "x.y"))]
    )
    fine = osv_record(
        "OK-2", ecosystem="npm", ranges=[ecosystem_range(("introduced", "0"), ("fixed", "2.0.0"))]
    )
    index = _index(broken, fine)
    assert _ids(index.match("npm", "demo", "1.0.0")) == ["OK-2"]
    assert index.match("npm", "demo", "not-a-version") == []


def test_semver_ranges_use_semver_and_go_versions_drop_the_v() -> None:
    record = osv_record(
        ecosystem="Go",
        name="github.com/foo/bar",
        ranges=[ecosystem_range(("introduced", "0"), ("fixed", "1.2.0"), range_type="SEMVER")],
    )
    index = _index(record)
    assert _fixed(index, "v1.1.0", "Go", "github.com/foo/bar") == "1.2.0"
    assert _fixed(index, "v0.0.0-20210101000000-abcdef123456", "Go", "github.com/foo/bar") == "1.2.0"
    assert index.match("Go", "github.com/foo/bar", "v1.2.0") == []


def test_release_suffix_keeps_distribution_releases_apart() -> None:
    index = _index(
        osv_record(
            "DSA-1",
            ecosystem="Debian:11",
            name="openssl",
            ranges=[ecosystem_range(("introduced", "0"), ("fixed", "1.1.1n-0+deb11u4"))],
        ),
        osv_record(
            "DSA-2",
            ecosystem="Debian:12",
            name="openssl",
            ranges=[ecosystem_range(("introduced", "0"), ("fixed", "3.0.11-1~deb12u2"))],
        ),
    )
    assert _ids(index.match("Debian:11", "openssl", "1.1.1n-0+deb11u3")) == ["DSA-1"]
    assert _ids(index.match("Debian", "openssl", "1.1.1n-0+deb11u3")) == ["DSA-1", "DSA-2"]


def test_matches_carry_the_advisory_facts_and_aliases_lookup() -> None:
    record = osv_record(
        ranges=[ecosystem_range(("introduced", "0"), ("fixed", "1.0"))],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    )
    index = _index(record)
    assert index.match("PyPI", "Demo", "0.5") == [Match("TEST-1", ("CVE-2024-1000",), "high", 7.5, "1.0")]
    assert index.advisory_ids_for("cve-2024-1000") == ("TEST-1",)
    assert index.advisory_ids_for("CVE-1999-0001") == ()


# Real advisories and real SBOMs, end to end


@cache
def _feed(name: str) -> AdvisoryIndex:
    advisories = (
        item for _, item in iter_advisories(fixtures_dir() / "osv" / name) if isinstance(item, Advisory)
    )
    return AdvisoryIndex(advisories)


def _cyclonedx_purls(name: str) -> Iterator[str]:
    document = json.loads((fixtures_dir() / "sboms" / name).read_text(encoding="utf-8"))
    return (component["purl"] for component in document["components"] if component.get("purl"))


def _spdx_purls(name: str) -> Iterator[str]:
    document = json.loads((fixtures_dir() / "sboms" / name).read_text(encoding="utf-8"))
    for package in document["packages"]:
        for reference in package.get("externalRefs", []):
            if reference.get("referenceType") == "purl":
                yield reference["referenceLocator"]


def _findings(index: AdvisoryIndex, purls: Iterator[str]) -> dict[str, dict[str, str | None]]:
    return {purl: {m.advisory_id: m.fixed_version for m in index.match_purl(purl)} for purl in purls}


def _by_name(findings: dict[str, dict[str, str | None]], fragment: str) -> dict[str, str | None]:
    (purl,) = {purl for purl in findings if fragment in purl}
    return findings[purl]


def test_python_app_against_the_python_advisory_database() -> None:
    findings = _findings(_feed("pypi-pysec.zip"), _cyclonedx_purls("python-app-syft-1.18.cdx.json"))
    # each checked by hand in the zip: the component's version lies in the advisory's ECOSYSTEM range
    expected = {
        "pkg:pypi/django@3.2": ("PYSEC-2021-7", "3.2.1"),  # introduced 3.2, fixed 3.2.1
        "pkg:pypi/pillow@8.1.0": ("PYSEC-2021-35", "8.1.1"),  # introduced 0, fixed 8.1.1
        "pkg:pypi/pyyaml@5.3.1": ("PYSEC-2021-142", "5.4"),  # introduced 0, fixed 5.4
        "pkg:pypi/jinja2@2.11.2": ("PYSEC-2021-66", "2.11.3"),  # introduced 0, fixed 2.11.3
        "pkg:pypi/urllib3@1.26.4": ("PYSEC-2021-108", "1.26.5"),  # introduced 0, fixed 1.26.5
        "pkg:pypi/requests@2.25.1": ("PYSEC-2023-74", "2.31.0"),  # introduced 2.3.0, fixed 2.31.0
        "pkg:pypi/cryptography@3.3.1": ("PYSEC-2021-63", "3.3.2"),  # introduced 3.1, fixed 3.3.2
    }
    for fragment, (advisory_id, fixed) in expected.items():
        assert _by_name(findings, fragment)[advisory_id] == fixed, fragment
    # unsorted event pairs: 2.0.0/2.0.6 then 0/1.26.17
    assert _by_name(findings, "pkg:pypi/urllib3@1.26.4")["PYSEC-2023-192"] == "1.26.17"
    # fixed at exactly the component's version: not reported
    assert "PYSEC-2020-96" not in _by_name(findings, "pkg:pypi/pyyaml@5.3.1")  # 5.1 .. fixed 5.3.1
    assert "PYSEC-2021-59" not in _by_name(findings, "pkg:pypi/urllib3@1.26.4")  # 1.26.0 .. fixed 1.26.4
    # fixed below the component's version: not reported
    assert "PYSEC-2018-28" not in _by_name(findings, "pkg:pypi/requests@2.25.1")  # 0 .. fixed 2.20.0
    assert "PYSEC-2019-217" not in _by_name(findings, "pkg:pypi/jinja2@2.11.2")  # 0 .. fixed 2.10.1


def test_kubectl_go_modules_against_the_go_vulnerability_database() -> None:
    findings = _findings(_feed("go-vulndb.zip"), _spdx_purls("kubectl-syft-0.90.spdx.json"))
    net = _by_name(findings, "pkg:golang/golang.org/x/net@")
    assert net["GO-2023-2102"] == "0.17.0"  # CVE-2023-39325, SEMVER introduced 0, fixed 0.17.0
    assert "GO-2023-1988" not in net  # fixed 0.13.0, the component's own version
    protobuf = _by_name(findings, "pkg:golang/google.golang.org/protobuf@")
    assert protobuf["GO-2024-2611"] == "1.33.0"  # CVE-2024-24786, introduced 0, fixed 1.33.0
    # unplaceable versions match nothing, without crashing
    assert all(findings[purl] == {} for purl in findings if purl.endswith("@(devel)"))


def test_wolfi_apk_against_wolfi_advisories() -> None:
    index = _feed("wolfi.zip")
    old = {m.advisory_id: m.fixed_version for m in index.match_purl("pkg:apk/wolfi/busybox@1.36.1-r0")}
    assert old["CGA-jrx7-26c9-jxcv"] == "1.37.0-r50"  # CVE-2025-46394, fixed 1.37.0-r50
    assert old["CGA-cqcp-63wq-mhqr"] is None  # CVE-2025-60876, still open
    assert "CGA-c95q-245j-h3hq" not in old  # CVE-2022-28391, fixed 1.35.0-r3
    new = {m.advisory_id for m in index.match_purl("pkg:apk/wolfi/busybox@1.37.0-r50")}
    assert "CGA-jrx7-26c9-jxcv" not in new and "CGA-w865-m7p5-hhrm" not in new
    assert "CGA-cqcp-63wq-mhqr" in new
    # a subpackage is matched through its origin
    origin = {m.advisory_id for m in index.match_purl("pkg:apk/wolfi/busybox-full@1.36.1-r0?origin=busybox")}
    assert "CGA-jrx7-26c9-jxcv" in origin


def test_same_inputs_give_the_same_findings_in_the_same_order() -> None:
    purls = list(_cyclonedx_purls("python-app-syft-1.18.cdx.json"))
    first = [_feed("pypi-pysec.zip").match_purl(purl) for purl in purls]
    rebuilt = AdvisoryIndex(
        item
        for _, item in iter_advisories(fixtures_dir() / "osv" / "pypi-pysec.zip")
        if isinstance(item, Advisory)
    )
    assert [rebuilt.match_purl(purl) for purl in purls] == first
    assert all(_ids(matches) == sorted(_ids(matches)) for matches in first)


def test_the_go_standard_library_matches_however_its_version_is_written() -> None:
    """The audit's case: `go1.17.10` matched none of the stdlib advisories that `1.17.10` matches."""
    index = _feed("go-vulndb.zip")
    plain = {m.advisory_id for m in index.match_purl("pkg:golang/stdlib@1.17.10")}
    assert len(plain) > 100
    assert {m.advisory_id for m in index.match_purl("pkg:golang/stdlib@go1.17.10")} == plain
    assert {m.advisory_id for m in index.match_purl("pkg:golang/stdlib@v1.17.10")} == plain
    # a toolchain tag is golang/vuln's 1.21.0-rc.2, before every 1.21.0 release candidate fix after it
    assert {m.advisory_id for m in index.match_purl("pkg:golang/toolchain@1.21rc2")} == {
        m.advisory_id for m in index.match_purl("pkg:golang/toolchain@1.21.0-rc.2")
    }
