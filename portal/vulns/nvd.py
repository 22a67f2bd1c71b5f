"""NVD CVE records (CVE API 2.0 JSON): what a CVE's record adds to its alias group, its CVSS metric.

They name no package (NVD's configurations are CPE matches, not versions of a package an SBOM names), so
they never match a component; a scan reads them only for severity, through the alias group they join by
their CVE id. A file holds one record (`{"id": "CVE-...", ...}`), one record wrapped as the API's
`{"cve": {...}}`, or a whole API answer (`{"vulnerabilities": [{"cve": {...}}, ...]}`).
"""

from collections.abc import Iterator, Mapping
from typing import Any, Final

from portal.vulns.osv import Advisory, AdvisoryError, parse_timestamp
from portal.vulns.severity import UNKNOWN, SeverityRating, rate_vector, severity_from_word

# NVD's own scores first, then a CNA's; v3.1 before v3.0 before v4.0, as for OSV records.
_METRICS: Final = ("cvssMetricV31", "cvssMetricV30", "cvssMetricV40")
_MAX_SUMMARY = 1000


def is_nvd_record(record: Mapping[str, Any]) -> bool:
    """NVD's shape, not OSV's (which has `modified`; both may have `affected`)."""
    if "modified" in record:
        return False
    return "cve" in record or "vulnStatus" in record or "lastModified" in record or _is_api_answer(record)


def _is_api_answer(record: Mapping[str, Any]) -> bool:
    return isinstance(record.get("vulnerabilities"), list) and "format" in record


def nvd_records(record: Mapping[str, Any]) -> Iterator[object]:
    """The CVE records a decoded file holds, unwrapped."""
    if _is_api_answer(record):
        for item in record["vulnerabilities"]:
            yield item.get("cve") if isinstance(item, Mapping) else item
    elif isinstance(record.get("cve"), Mapping):
        yield record["cve"]
    else:
        yield record


def parse_nvd(record: object) -> Advisory:
    if not isinstance(record, Mapping):
        raise AdvisoryError("an NVD CVE record must be a JSON object")
    cve_id = record.get("id")
    if not isinstance(cve_id, str) or not cve_id.strip().upper().startswith("CVE-"):
        raise AdvisoryError("not an NVD CVE record: no CVE id")
    cve_id = cve_id.strip().upper()
    modified = parse_timestamp(record.get("lastModified"), "lastModified", cve_id)
    published = record.get("published")
    metrics = record.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise AdvisoryError("metrics must be an object", cve_id)
    rating = _rating(metrics)
    return Advisory(
        id=cve_id,
        modified=modified,
        published=None if published is None else parse_timestamp(published, "published", cve_id),
        # a rejected CVE is withdrawn: kept on record, rating nothing
        withdrawn=modified if record.get("vulnStatus") == "Rejected" else None,
        aliases=(),
        summary=_summary(record.get("descriptions")),
        details="",
        severity=rating.severity,
        cvss_score=rating.cvss_score,
        cvss_vector=rating.cvss_vector,
        affected=(),
        source="nvd",
    )


def _rating(metrics: Mapping[str, Any]) -> SeverityRating:
    for key in _METRICS:
        entries = [entry for entry in metrics.get(key) or [] if isinstance(entry, Mapping)]
        # NVD's own analysis ("Primary") before a CNA's ("Secondary")
        entries.sort(key=lambda entry: entry.get("type") != "Primary")
        for entry in entries:
            data = entry.get("cvssData")
            if not isinstance(data, Mapping) or not isinstance(data.get("vectorString"), str):
                continue
            rated = rate_vector(data["vectorString"])
            score = data.get("baseScore")
            if rated is None or not isinstance(score, int | float):
                continue
            word = severity_from_word(data.get("baseSeverity"))
            return SeverityRating(
                word if word != "unknown" else rated.severity, float(score), rated.cvss_vector
            )
    return UNKNOWN


def _summary(descriptions: object) -> str:
    if not isinstance(descriptions, list):
        return ""
    for description in descriptions:
        if isinstance(description, Mapping) and description.get("lang") == "en":
            value = description.get("value")
            return value.strip()[:_MAX_SUMMARY] if isinstance(value, str) else ""
    return ""
