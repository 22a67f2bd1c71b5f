"""How a scan's findings are stored: one compact document per distinct set of findings.

A full rescan finds hundreds of thousands of findings, nearly all of them the same as the previous scan's.
So a scan's findings are one document, the findings one JSON array per line in scan order, compressed and
named by the SHA-256 of its text: a scan whose findings did not change points at the document its
predecessor wrote and stores nothing new, and comparing two scans is comparing two digests. Beside the
document, the advisory id of each line (same order, uncompressed JSON) answers "which advisories" (new and
resolved ids, CVE watches) without opening it, and says which lines to decode when only a few are wanted.
"""

import hashlib
import json
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from portal.vulns.severity import SEVERITY_ORDER

_SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}
SUMMARY_FIELDS = (*SEVERITY_ORDER, "total", "fixable")
_UNKNOWN = SUMMARY_FIELDS.index("unknown")
_TOTAL = SUMMARY_FIELDS.index("total")
_FIXABLE = SUMMARY_FIELDS.index("fixable")
# Level 1 packs a document about 4:1 at several hundred MB/s; higher levels cost far more for little more.
_COMPRESSION_LEVEL = 1


@dataclass(frozen=True, slots=True)
class FoundVulnerability:
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: str
    cvss_score: float | None
    package_name: str
    package_version: str | None
    package_purl: str | None
    fixed_version: str | None

    def names(self, identifier: str) -> bool:
        """Whether this finding is known as `identifier` (upper case): its advisory id or an alias."""
        return self.vulnerability_id.upper() == identifier or identifier in (a.upper() for a in self.aliases)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            _SEVERITY_RANK.get(self.severity, len(_SEVERITY_RANK)),
            -(self.cvss_score if self.cvss_score is not None else -1.0),
            self.vulnerability_id,
            self.package_name,
            self.package_version or "",
            self.package_purl or "",
        )


def summary_counts(findings: Iterable[FoundVulnerability]) -> list[int]:
    """Counts in SUMMARY_FIELDS order; counts of findings that share none add up."""
    counts = [0] * len(SUMMARY_FIELDS)
    for finding in findings:
        counts[_SEVERITY_RANK.get(finding.severity, _UNKNOWN)] += 1
        counts[_TOTAL] += 1
        if finding.fixed_version:
            counts[_FIXABLE] += 1
    return counts


@dataclass(frozen=True, slots=True)
class EncodedFindings:
    digest: str
    text: bytes
    vulnerability_ids: Sequence[str]

    def row(self) -> dict[str, Any]:
        """The finding_sets row, compressed only now: most rescans find a set that is stored already."""
        return {
            "digest": self.digest,
            "vulnerability_ids": json.dumps(list(self.vulnerability_ids), separators=(",", ":")),
            "document": zlib.compress(self.text, _COMPRESSION_LEVEL),
        }


def finding_line(finding: FoundVulnerability) -> str:
    """One finding as its document line (a scan run encodes each distinct finding once)."""
    return json.dumps(
        [
            finding.vulnerability_id,
            list(finding.aliases),
            finding.severity,
            finding.cvss_score,
            finding.package_name,
            finding.package_version,
            finding.package_purl,
            finding.fixed_version,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def encode_findings(lines: Sequence[str], vulnerability_ids: Sequence[str]) -> EncodedFindings:
    """The document of findings given as their lines, in scan order, with each one's advisory id."""
    text = "\n".join(lines).encode()
    return EncodedFindings(hashlib.sha256(text).hexdigest(), text, vulnerability_ids)


def decode_ids(vulnerability_ids: str) -> list[str]:
    ids: list[str] = json.loads(vulnerability_ids)
    return ids


def decode_findings(
    document: bytes, vulnerability_ids: str, only: Collection[str] | None = None
) -> list[FoundVulnerability]:
    """The findings in scan order, or only those of the advisories in `only` (decoding just those)."""
    text = zlib.decompress(document).decode()
    if not text:
        return []
    lines = text.split("\n")
    if only is not None:
        lines = [
            line for line, found in zip(lines, decode_ids(vulnerability_ids), strict=True) if found in only
        ]
    return [_finding(json.loads(line)) for line in lines]


def _finding(values: list[object]) -> FoundVulnerability:
    vulnerability_id, aliases, severity, cvss_score, name, version, purl, fixed_version = values
    assert isinstance(aliases, list)
    return FoundVulnerability(
        vulnerability_id=str(vulnerability_id),
        aliases=tuple(str(alias) for alias in aliases),
        severity=str(severity),
        cvss_score=float(cvss_score) if isinstance(cvss_score, int | float) else None,
        package_name=str(name),
        package_version=version if isinstance(version, str) else None,
        package_purl=purl if isinstance(purl, str) else None,
        fixed_version=fixed_version if isinstance(fixed_version, str) else None,
    )
