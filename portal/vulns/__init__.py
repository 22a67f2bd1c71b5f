"""Vulnerability matching: version ordering per ecosystem, OSV advisories, purls and the advisory index."""

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
