"""How a scan's findings are stored: one compact document per distinct set of findings.

A full rescan finds hundreds of thousands of findings, nearly all of them the same as the previous scan's.
So a scan's findings are one document, the findings one JSON array per line in scan order (component by
component), compressed and named by the SHA-256 of its text: a scan whose findings did not change points at
the document its predecessor wrote and stores nothing new, and comparing two scans is comparing two
digests. Beside the document, each line's vulnerability id (and its CVE ids, when they are not just that
id) answer "which vulnerabilities" (new and resolved ids, CVE watches, KEV counts) without opening it, and
say which lines to decode when only a few are wanted.

A finding is one vulnerability (an alias group) on one component: every id it is known by, the records
that matched with each one's fix, the highest of those fixes, and its rating.
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
    # every id the vulnerability is known by, its own included, sorted
    ids: tuple[str, ...]
    severity: str
    cvss_score: float | None
    package_name: str
    package_version: str | None
    package_purl: str | None
    fixed_version: str | None
    cvss_vector: str | None = None
    cvss_version: str | None = None
    # the record whose rating it is (a GHSA id, a CVE id for NVD's), when one states any
    severity_source: str | None = None
    # (advisory id, its fixed version) of each record that matched the component
    sources: tuple[tuple[str, str | None], ...] = ()

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(i for i in self.ids if i != self.vulnerability_id)

    @property
    def cve_ids(self) -> tuple[str, ...]:
        return tuple(i for i in self.ids if i.upper().startswith("CVE-"))

    def names(self, identifier: str) -> bool:
        """Whether this finding is known as `identifier` (upper case): any of its ids."""
        return any(i.upper() == identifier for i in self.ids)

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


def deflate_block(text: bytes) -> bytes:
    """Some lines of a document compressed on their own: raw deflate, ended on a byte boundary and not
    final, so that blocks put one after another are one deflate stream (`zlib_document`)."""
    compressor = zlib.compressobj(_COMPRESSION_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(text) + compressor.flush(zlib.Z_FULL_FLUSH)


_NEWLINE_BLOCK = deflate_block(b"\n")
# a zlib header (deflate, 32 KiB window, fastest) and a final empty block with fixed codes (RFC 1950/1951)
_ZLIB_HEADER, _FINAL_BLOCK = b"\x78\x01", b"\x03\x00"


def zlib_document(blocks: Sequence[bytes], text: bytes) -> bytes:
    """The zlib stream of `text`, made of blocks of its lines separated by newlines (what
    `zlib.decompress` reads back as `text`)."""
    body = _NEWLINE_BLOCK.join(blocks)
    return _ZLIB_HEADER + body + _FINAL_BLOCK + zlib.adler32(text).to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class EncodedFindings:
    digest: str
    text: bytes
    vulnerability_ids: Sequence[str]
    cve_ids: Sequence[list[str] | None]
    # the text's lines compressed a component at a time, when the scan kept them (`zlib_document`)
    blocks: Sequence[bytes] | None = None

    def row(self) -> dict[str, Any]:
        """The finding_sets row, compressed only now: most rescans find a set that is stored already."""
        if self.blocks is not None:
            document = zlib_document(self.blocks, self.text)
        else:
            document = zlib.compress(self.text, _COMPRESSION_LEVEL)
        return {
            "digest": self.digest,
            "vulnerability_ids": json.dumps(list(self.vulnerability_ids), separators=(",", ":")),
            "cve_ids": json.dumps(list(self.cve_ids), separators=(",", ":")),
            "document": document,
        }


def finding_row(finding: FoundVulnerability) -> list[Any]:
    """One finding as its document line's values."""
    return [
        finding.vulnerability_id,
        list(finding.ids),
        finding.severity,
        finding.cvss_score,
        finding.package_name,
        finding.package_version,
        finding.package_purl,
        finding.fixed_version,
        finding.cvss_vector,
        finding.cvss_version,
        finding.severity_source,
        [list(source) for source in finding.sources],
    ]


def finding_line(finding: FoundVulnerability) -> str:
    """One finding as its document line (a scan run encodes each distinct finding once)."""
    return json.dumps(finding_row(finding), separators=(",", ":"), ensure_ascii=False)


def line_cves(finding: FoundVulnerability) -> list[str] | None:
    """What the cve_ids column keeps for a finding: null when its CVEs are just its vulnerability id."""
    cves = list(finding.cve_ids)
    implied = [finding.vulnerability_id] if finding.vulnerability_id.upper().startswith("CVE-") else []
    return None if cves == implied else cves


def encode_findings(
    text: str,
    vulnerability_ids: Sequence[str],
    cve_ids: Sequence[list[str] | None],
    blocks: Sequence[bytes] | None = None,
) -> EncodedFindings:
    """The document of findings given as their lines joined, in scan order, with each one's ids (and the
    lines compressed in blocks, when the caller has them)."""
    data = text.encode()
    return EncodedFindings(hashlib.sha256(data).hexdigest(), data, vulnerability_ids, cve_ids, blocks)


def decode_ids(vulnerability_ids: str) -> list[str]:
    ids: list[str] = json.loads(vulnerability_ids)
    return ids


def decode_line_ids(vulnerability_ids: str, cve_ids: str | None) -> list[tuple[str, list[str]]]:
    """(vulnerability id, CVE ids) of each line, without opening the document."""
    ids = decode_ids(vulnerability_ids)
    cves: list[list[str] | None] = json.loads(cve_ids) if cve_ids else [None] * len(ids)
    return [
        (vid, explicit if explicit is not None else ([vid] if vid.upper().startswith("CVE-") else []))
        for vid, explicit in zip(ids, cves, strict=True)
    ]


def decode_findings(
    document: bytes, vulnerability_ids: str, only: Collection[int] | None = None
) -> list[FoundVulnerability]:
    """The findings in scan order, or only the lines numbered in `only` (decoding just those)."""
    text = zlib.decompress(document).decode()
    if not text:
        return []
    lines = text.split("\n")
    if only is not None:
        lines = [line for number, line in enumerate(lines) if number in only]
    return [_finding(json.loads(line)) for line in lines]


def lines_of(document: bytes) -> list[str]:
    """Every finding of a document as its line, not decoded (JSON arrays)."""
    text = zlib.decompress(document).decode()
    return text.split("\n") if text else []


def row_ids(row: list[Any]) -> list[str]:
    """Every id of a raw line's vulnerability (lines written before alias groups list only aliases)."""
    return [str(i) for i in row[1]] if len(row) > 8 else [str(row[0]), *map(str, row[1])]


def finding_from_row(row: list[Any]) -> FoundVulnerability:
    return _finding(row)


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _finding(values: list[Any]) -> FoundVulnerability:
    vulnerability_id, ids, severity, cvss_score, name, version, purl, fixed_version = values[:8]
    assert isinstance(ids, list)
    # documents written before alias groups hold [vulnerability id, aliases, ...] and no more
    extra = values[8:] if len(values) > 8 else [None, None, None, []]
    vector, cvss_version, severity_source, sources = extra
    ids_all = row_ids(values)
    return FoundVulnerability(
        vulnerability_id=str(vulnerability_id),
        # written sorted; lines from before alias groups are sorted here
        ids=tuple(ids_all) if len(values) > 8 else tuple(sorted(set(ids_all), key=str.upper)),
        severity=str(severity),
        cvss_score=float(cvss_score) if isinstance(cvss_score, int | float) else None,
        package_name=str(name),
        package_version=_optional_str(version),
        package_purl=_optional_str(purl),
        fixed_version=_optional_str(fixed_version),
        cvss_vector=_optional_str(vector),
        cvss_version=_optional_str(cvss_version),
        severity_source=_optional_str(severity_source),
        sources=tuple((str(source[0]), _optional_str(source[1])) for source in sources),
    )
