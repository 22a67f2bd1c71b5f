"""A scan's counts: as stored with the scan, and open for one tenant once VEX verdicts take findings out."""

from collections.abc import Collection
from dataclasses import dataclass

from portal.scanning.findings import SUMMARY_FIELDS, FoundVulnerability, summary_counts
from portal.scanning.models import Scan


@dataclass(frozen=True, slots=True)
class LatestScan:
    """A version's newest scan, and its open counts for the tenant that asked."""

    scan: Scan
    summary: dict[str, int]


def scan_summary(scan: Scan) -> dict[str, int]:
    return {
        "critical": scan.critical,
        "high": scan.high,
        "medium": scan.medium,
        "low": scan.low,
        "unknown": scan.unknown,
        "total": scan.total,
        "fixable": scan.fixable,
    }


def open_summary(
    summary: dict[str, int], taken_out: list[FoundVulnerability], kev_listed: Collection[str]
) -> dict[str, int]:
    """A scan's counts less the findings a VEX verdict takes out (counted apart as `suppressed`);
    `kev_listed`: the (upper-case) CVE ids in the KEV catalog, at least those of the findings taken out."""
    less = dict(zip(SUMMARY_FIELDS, summary_counts(taken_out), strict=True))
    kev = sum(1 for f in taken_out if any(c.upper() in kev_listed for c in f.cve_ids))
    return {
        **{name: count - less.get(name, 0) for name, count in summary.items()},
        "suppressed": len(taken_out),
    } | ({"kev": summary["kev"] - kev} if "kev" in summary else {})
