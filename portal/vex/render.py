"""A version's VEX as documents: OpenVEX 0.2.0, CycloneDX 1.5 VEX and a CycloneDX 1.5 VDR.

The same state always renders the same bytes (the strong ETag): documents are named from their
content, and their time is the latest verdict's (the version's publish time when none speaks).

- OpenVEX: one statement per verdict (a vendor statement, or a tenant's analysis), its product the image
  purl with digest and its subcomponents the purls of the components it speaks for.
- CycloneDX VEX: one vulnerability per verdict and vulnerability, with CycloneDX's analysis, `affects`
  pointing into the version's CycloneDX SBOM by BOM-Link (`urn:cdx:VERSION_ID/1#BOM_REF`).
- CycloneDX VDR: every finding of the latest scan, grouped by vulnerability and verdict, with its rating
  and its analysis when a verdict speaks for it.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from portal.kit.clock import rfc3339
from portal.scanning.findings import FoundVulnerability
from portal.vex.verdicts import Verdict

# The OpenVEX justifications and CycloneDX's, each way (the CycloneDX VEX guide's mapping).
TO_CYCLONEDX_JUSTIFICATION = {
    "component_not_present": "requires_dependency",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
TO_OPENVEX_JUSTIFICATION = {
    "code_not_present": "vulnerable_code_not_present",
    "code_not_reachable": "vulnerable_code_not_in_execute_path",
    "requires_configuration": "vulnerable_code_cannot_be_controlled_by_adversary",
    "requires_dependency": "component_not_present",
    "requires_environment": "vulnerable_code_cannot_be_controlled_by_adversary",
    "protected_by_compiler": "inline_mitigations_already_exist",
    "protected_at_runtime": "inline_mitigations_already_exist",
    "protected_at_perimeter": "inline_mitigations_already_exist",
    "protected_by_mitigating_control": "inline_mitigations_already_exist",
}
_TO_CYCLONEDX_STATE = {
    "not_affected": "not_affected",
    "fixed": "resolved",
    "affected": "exploitable",
    "under_investigation": "in_triage",
    "false_positive": "false_positive",
}
_CYCLONEDX_RESPONSES = frozenset(
    {"can_not_fix", "will_not_fix", "update", "rollback", "workaround_available"}
)
_NAMESPACE = uuid.UUID("6f0c1a52-8e1e-4c1b-9a53-7c0e5d8a4b21")


@dataclass(frozen=True)
class VersionVex:
    """What a version's VEX documents are made of."""

    version_id: str
    image_purl: str
    published_at: datetime
    author: str
    findings: Sequence[FoundVulnerability]
    verdicts: Sequence[Verdict | None]
    # component purl -> its bom-ref in the version's CycloneDX SBOM
    bom_refs: dict[str, str]

    def spoken(self) -> list[tuple[Verdict, list[FoundVulnerability]]]:
        """Each verdict with the findings it speaks for, in a stable order."""
        groups: dict[tuple[Any, ...], tuple[Verdict, list[FoundVulnerability]]] = {}
        for finding, verdict in zip(self.findings, self.verdicts, strict=True):
            if verdict is None:
                continue
            key = (finding.vulnerability_id, verdict.source, verdict.statement_id or verdict.analysis_state)
            groups.setdefault(key, (verdict, []))[1].append(finding)
        return [groups[key] for key in sorted(groups, key=lambda k: (k[0], k[1], groups[k][0].timestamp))]

    @property
    def issued(self) -> datetime:
        times = [v.timestamp for v in self.verdicts if v is not None]
        return max(times, default=self.published_at)

    def bom_link(self, finding: FoundVulnerability) -> str:
        ref = self.bom_refs.get(finding.package_purl or "") or self.image_purl
        return f"urn:cdx:{self.version_id}/1#{quote(ref, safe='')}"


def _dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _content_uuid(*parts: str | bytes) -> uuid.UUID:
    """A document's id from what it says: the same content, the same id."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return uuid.uuid5(_NAMESPACE, digest.hexdigest())


def render_openvex(vex: VersionVex) -> bytes:
    statements = []
    times: dict[datetime, str] = {}
    for verdict, findings in vex.spoken():
        status, justification = verdict.status, verdict.justification
        if verdict.source == "tenant":
            justification = TO_OPENVEX_JUSTIFICATION.get(justification or "")
            if status == "false_positive":
                status = "not_affected"
                justification = justification or "component_not_present"
        statement: dict[str, Any] = {
            "vulnerability": {
                "name": findings[0].vulnerability_id,
                **({"aliases": list(findings[0].aliases)} if findings[0].aliases else {}),
            },
            "timestamp": times.get(verdict.timestamp)
            or times.setdefault(verdict.timestamp, rfc3339(verdict.timestamp)),
            "products": [
                {
                    "@id": vex.image_purl,
                    "subcomponents": [
                        {"@id": purl} for purl in sorted({f.package_purl for f in findings if f.package_purl})
                    ],
                }
            ],
            "status": status,
        }
        if not statement["products"][0]["subcomponents"]:
            del statement["products"][0]["subcomponents"]
        if status == "not_affected" and justification:
            statement["justification"] = justification
        if verdict.statement or (status == "not_affected" and not justification):
            statement["impact_statement"] = verdict.statement or "Not affected."
        if status == "affected" or verdict.action:
            statement["action_statement"] = verdict.action or "See the vendor's advisory."
        statements.append(statement)
    listed = _dumps({"statements": statements})
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": f"urn:uuid:{_content_uuid(vex.version_id, listed)}",
        "author": vex.author,
        "role": "Document Creator",
        "timestamp": rfc3339(vex.issued),
        "version": 1,
        "tooling": "portal",
    }
    # the statements serialized once: for the document's id and for the document
    return _dumps(document)[:-1] + b"," + listed[1:]


def _analysis(verdict: Verdict) -> dict[str, Any]:
    state = verdict.analysis_state or _TO_CYCLONEDX_STATE[verdict.status]
    analysis: dict[str, Any] = {"state": state}
    justification = verdict.justification
    if verdict.source == "vendor":
        justification = TO_CYCLONEDX_JUSTIFICATION.get(justification or "")
    if justification and state == "not_affected":
        analysis["justification"] = justification
    responses = [r.strip() for r in (verdict.action or "").split(",") if r.strip() in _CYCLONEDX_RESPONSES]
    if responses:
        analysis["response"] = responses
    detail = " ".join(part for part in (verdict.statement, verdict.action if not responses else None) if part)
    if detail:
        analysis["detail"] = detail
    analysis["lastUpdated"] = rfc3339(verdict.timestamp)
    return analysis


def _cyclonedx(vex: VersionVex, vulnerabilities: list[dict[str, Any]], kind: str) -> bytes:
    listed = _dumps({"vulnerabilities": vulnerabilities})
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{_content_uuid(kind, vex.version_id, listed)}",
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(vex.issued),
            "tools": {"components": [{"type": "application", "name": "portal"}]},
            "supplier": {"name": vex.author},
        },
    }
    # the vulnerabilities serialized once: for the document's id and for the document
    return _dumps(document)[:-1] + b"," + listed[1:]


def _vulnerability(vex: VersionVex, findings: list[FoundVulnerability]) -> dict[str, Any]:
    first = findings[0]
    entry: dict[str, Any] = {"id": first.vulnerability_id}
    if first.aliases:
        entry["references"] = [{"id": alias, "source": {"name": _source(alias)}} for alias in first.aliases]
    entry["affects"] = [{"ref": ref} for ref in sorted({vex.bom_link(f) for f in findings})]
    return entry


def _source(identifier: str) -> str:
    prefix = identifier.split("-", 1)[0].upper()
    return {"CVE": "NVD", "GHSA": "GitHub", "PYSEC": "PyPI", "GO": "Go", "CGA": "Chainguard"}.get(
        prefix, prefix
    )


def render_cyclonedx_vex(vex: VersionVex) -> bytes:
    vulnerabilities = []
    for verdict, findings in vex.spoken():
        entry = _vulnerability(vex, findings)
        entry["analysis"] = _analysis(verdict)
        vulnerabilities.append(_ordered(entry))
    return _cyclonedx(vex, vulnerabilities, "vex")


def render_cyclonedx_vdr(vex: VersionVex) -> bytes:
    groups: dict[tuple[str, Verdict | None], list[FoundVulnerability]] = {}
    for finding, verdict in zip(vex.findings, vex.verdicts, strict=True):
        groups.setdefault((finding.vulnerability_id, verdict), []).append(finding)
    vulnerabilities = []
    for (_, verdict), findings in sorted(
        groups.items(),
        key=lambda item: (item[0][0], item[0][1] is not None, item[0][1] and item[0][1].source),
    ):
        entry = _vulnerability(vex, findings)
        rating = _rating(findings[0])
        if rating:
            entry["ratings"] = [rating]
        fixes = sorted({f.fixed_version for f in findings if f.fixed_version})
        if fixes:
            entry["recommendation"] = "Upgrade to " + ", ".join(fixes) + "."
        if verdict is not None:
            entry["analysis"] = _analysis(verdict)
        vulnerabilities.append(_ordered(entry))
    return _cyclonedx(vex, vulnerabilities, "vdr")


def _rating(finding: FoundVulnerability) -> dict[str, Any] | None:
    rating: dict[str, Any] = {}
    if finding.severity_source:
        rating["source"] = {"name": finding.severity_source}
    if finding.cvss_score is not None:
        rating["score"] = finding.cvss_score
    rating["severity"] = finding.severity
    if finding.cvss_vector:
        version = finding.cvss_version or ""
        rating["method"] = {"3.1": "CVSSv31", "3.0": "CVSSv3", "4.0": "CVSSv4", "2.0": "CVSSv2"}.get(
            version, "other"
        )
        rating["vector"] = finding.cvss_vector
    return rating


_ORDER = ("id", "references", "ratings", "recommendation", "analysis", "affects")


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in _ORDER if key in entry}
