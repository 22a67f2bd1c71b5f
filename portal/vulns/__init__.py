"""Vulnerability matching: version ordering per ecosystem, OSV advisories, purls and the advisory index.
Each name is imported when first used (`portal.kit.exports`): a severity does not bring every
ecosystem's version library."""

from typing import TYPE_CHECKING

from portal.kit.exports import lazy_exports

if TYPE_CHECKING:
    from portal.vulns.matching import AdvisoryIndex, Match, package_documents
    from portal.vulns.osv import (
        Advisory,
        AdvisoryError,
        AffectedPackage,
        Range,
        iter_advisories,
        iter_osv_source,
        parse_advisory,
    )
    from portal.vulns.purls import PurlError, PurlPackage, normalize_name, parse_purl
    from portal.vulns.severity import Severity
    from portal.vulns.versions import InvalidVersion, SortKey, base_ecosystem, compare, version_key

__all__ = [
    "Advisory",
    "AdvisoryError",
    "AdvisoryIndex",
    "AffectedPackage",
    "InvalidVersion",
    "Match",
    "PurlError",
    "PurlPackage",
    "Range",
    "Severity",
    "SortKey",
    "base_ecosystem",
    "compare",
    "iter_advisories",
    "iter_osv_source",
    "normalize_name",
    "package_documents",
    "parse_advisory",
    "parse_purl",
    "version_key",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "matching": ["AdvisoryIndex", "Match", "package_documents"],
        "osv": [
            "Advisory",
            "AdvisoryError",
            "AffectedPackage",
            "Range",
            "iter_advisories",
            "iter_osv_source",
            "parse_advisory",
        ],
        "purls": ["PurlError", "PurlPackage", "normalize_name", "parse_purl"],
        "severity": ["Severity"],
        "versions": ["InvalidVersion", "SortKey", "base_ecosystem", "compare", "version_key"],
    },
)
