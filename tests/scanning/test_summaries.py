"""A scan's open counts for a tenant: what a VEX verdict takes out is counted apart, KEV included."""

from portal.scanning.findings import FoundVulnerability
from portal.scanning.summaries import open_summary


def _finding(vulnerability_id: str, severity: str, fixed: str | None, *aliases: str) -> FoundVulnerability:
    return FoundVulnerability(
        vulnerability_id=vulnerability_id,
        ids=tuple(sorted({vulnerability_id, *aliases})),
        severity=severity,
        cvss_score=None,
        package_name="openssl",
        package_version="3.0.0",
        package_purl="pkg:deb/debian/openssl@3.0.0",
        fixed_version=fixed,
    )


SUMMARY = {"critical": 2, "high": 3, "medium": 1, "low": 0, "unknown": 1, "total": 7, "fixable": 4}


def test_findings_taken_out_leave_the_counts_and_are_counted_as_suppressed() -> None:
    taken_out = [
        _finding("GHSA-aaaa-bbbb-cccc", "critical", "3.0.1", "CVE-2024-0001"),
        _finding("CVE-2024-0002", "high", None),
    ]

    opened = open_summary({**SUMMARY, "kev": 2}, taken_out, {"CVE-2024-0001", "CVE-2023-9999"})

    assert opened == {
        "critical": 1,
        "high": 2,
        "medium": 1,
        "low": 0,
        "unknown": 1,
        "total": 5,
        "fixable": 3,
        "suppressed": 2,
        # the critical one taken out was in the KEV catalog (by its CVE alias); the other was not
        "kev": 1,
    }


def test_nothing_taken_out_changes_nothing_but_says_so() -> None:
    assert open_summary(SUMMARY, [], set()) == {**SUMMARY, "suppressed": 0}
