"""Reading VEX documents: OpenVEX 0.2.0 and CycloneDX 1.4-1.6 (`vulnerabilities[]` with `analysis` and
`affects`), from files, folders and zips, into statements in one shape.

An OpenVEX document is validated against the OpenVEX 0.2.0 JSON schema, which this package ships
(`openvex_json_schema_0.2.0.json`: the specification's own schema, from github.com/openvex/spec at
d29fab0c, Apache License 2.0); a CycloneDX document against the official CycloneDX schema of its version.
A document that fails is refused whole, with the JSON path of the first error.

Where the specifications leave a choice, the portal decides so:
- A statement's time is its `timestamp`, else its document's (`last_updated` when given); CycloneDX's
  `analysis.lastUpdated`, else `firstIssued`, else the vulnerability's `updated` / `published`, else the
  document's `metadata.timestamp`, else the time it is imported.
- CycloneDX analysis states become OpenVEX statuses: `not_affected` and `false_positive` ->
  `not_affected`, `resolved` and `resolved_with_pedigree` -> `fixed`, `exploitable` -> `affected`,
  `in_triage` -> `under_investigation`; an `affects` version marked `unaffected` is `not_affected` and
  `unknown` is `under_investigation`. Justifications map as the CycloneDX VEX guide maps them.
- An `affects` entry names a product by bom-ref (a component of the same document, by its purl) or by
  BOM-Link (`urn:cdx:SERIAL/VERSION#REF`): a BOM-Link into a version's SBOM the portal rendered is the
  component it names; any other stays as stated and applies to nothing. Version ranges (`vers:`) are
  kept as stated and apply to nothing either: a statement here names the versions it checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal.errors import ValidationFailed
from portal.sbom.schemas import CYCLONEDX_INPUT_VERSIONS, cyclonedx_validator

if TYPE_CHECKING:
    import jsonschema_rs

OPENVEX_CONTEXT_PREFIX = "https://openvex.dev/ns"
STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
_CYCLONEDX_STATES = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}
_CYCLONEDX_JUSTIFICATIONS = {
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
_AFFECTS_STATUS = {"unaffected": "not_affected", "unknown": "under_investigation"}
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


class VexRefused(ValidationFailed):
    """A document that is no VEX the portal reads, or fails its schema: nothing of it is stored."""

    def __init__(self, source: str, message: str, path: str | None = None) -> None:
        where = f" at {path}" if path else ""
        super().__init__(f"{source}: {message}{where}")
        self.source = source
        self.json_path = path


@dataclass(frozen=True)
class StatedProduct:
    """A product as a statement names it: a purl, or a BOM-Link the service may resolve."""

    ref: str
    subcomponents: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatedVex:
    format: str
    origin: str
    vulnerability: str
    aliases: tuple[str, ...]
    status: str
    justification: str | None
    statement: str | None
    action: str | None
    # None: the document states no time (the import's time is taken)
    stated_at: datetime | None
    products: tuple[StatedProduct, ...]

    @property
    def vulnerability_ids(self) -> list[str]:
        return sorted({self.vulnerability.upper(), *(alias.upper() for alias in self.aliases)})

    def fingerprint(self) -> str:
        """The same statement from the same document, imported again, has the same fingerprint."""
        canonical = json.dumps(
            [
                self.format,
                self.origin,
                self.vulnerability,
                sorted(self.aliases),
                self.status,
                self.justification,
                self.statement,
                self.action,
                self.stated_at.isoformat() if self.stated_at else None,
                [[p.ref, list(p.subcomponents)] for p in self.products],
            ],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ReadDocument:
    source: str
    format: str
    statements: list[StatedVex] = field(default_factory=list)


def iter_sources(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every JSON document of a file, a folder (recursively) or a zip."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*.json") if p.is_file()):
            yield str(file), file.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.filename.endswith(".json") and not info.is_dir():
                    if info.file_size > MAX_DOCUMENT_BYTES:
                        raise VexRefused(f"{path}:{info.filename}", "document too large")
                    yield f"{path}:{info.filename}", archive.read(info)
    else:
        yield str(path), path.read_bytes()


def read_document(source: str, data: bytes) -> ReadDocument:
    try:
        document = json.load(io.BytesIO(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise VexRefused(source, f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise VexRefused(source, "not a VEX document (a JSON object is expected)")
    context = document.get("@context")
    if isinstance(context, str) and context.startswith(OPENVEX_CONTEXT_PREFIX):
        return _openvex(source, document)
    if document.get("bomFormat") == "CycloneDX":
        return _cyclonedx(source, document)
    raise VexRefused(source, "neither OpenVEX (@context https://openvex.dev/ns/...) nor CycloneDX")


@cache
def openvex_validator() -> jsonschema_rs.Validator:
    import jsonschema_rs  # here: listing statements validates nothing

    schema = json.loads((resources.files("portal.vex") / "openvex_json_schema_0.2.0.json").read_text())
    return jsonschema_rs.validator_for(schema)


def _first_error(validator: jsonschema_rs.Validator, source: str, document: dict[str, Any]) -> None:
    for error in validator.iter_errors(document):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        raise VexRefused(source, f"fails the schema: {error.message}", path)


def _time(value: object, fallback: datetime | None = None) -> datetime | None:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return fallback


def _openvex(source: str, document: dict[str, Any]) -> ReadDocument:
    if document["@context"] != "https://openvex.dev/ns/v0.2.0":
        raise VexRefused(source, f"OpenVEX {document['@context']} is not read; 0.2.0 is", "$.@context")
    _first_error(openvex_validator(), source, document)
    issued = _time(document.get("last_updated")) or _time(document.get("timestamp"))
    assert issued is not None  # the schema requires the timestamp
    origin = str(document.get("@id") or source)
    read = ReadDocument(source, "openvex")
    for statement in document["statements"]:
        vulnerability = statement["vulnerability"]
        products = tuple(
            StatedProduct(
                _openvex_ref(product), tuple(_openvex_ref(s) for s in product.get("subcomponents", []))
            )
            for product in statement.get("products", [])
        )
        read.statements.append(
            StatedVex(
                format="openvex",
                origin=origin,
                vulnerability=vulnerability["name"],
                aliases=tuple(vulnerability.get("aliases", [])),
                status=statement["status"],
                justification=statement.get("justification"),
                statement=statement.get("impact_statement"),
                action=statement.get("action_statement"),
                stated_at=_time(statement.get("last_updated"))
                or _time(statement.get("timestamp"), issued)
                or issued,
                products=products,
            )
        )
    return read


def _openvex_ref(component: dict[str, Any]) -> str:
    identifiers = component.get("identifiers") or {}
    return str(identifiers.get("purl") or component.get("@id") or "")


def _cyclonedx(source: str, document: dict[str, Any]) -> ReadDocument:
    version = document.get("specVersion")
    if version not in CYCLONEDX_INPUT_VERSIONS or version == "1.7":
        raise VexRefused(source, f"CycloneDX {version!r} is not read; 1.4, 1.5 and 1.6 are", "$.specVersion")
    _first_error(cyclonedx_validator(str(version)), source, document)
    metadata = document.get("metadata") or {}
    issued = _time(metadata.get("timestamp"))
    origin = str(document.get("serialNumber") or source)
    purls = _bom_refs(document)
    read = ReadDocument(source, "cyclonedx")
    for vulnerability in document.get("vulnerabilities", []):
        analysis = vulnerability.get("analysis") or {}
        state = analysis.get("state")
        if state is None:
            continue  # a vulnerability without analysis states nothing about exploitability
        stated_at = (
            _time(analysis.get("lastUpdated"))
            or _time(analysis.get("firstIssued"))
            or _time(vulnerability.get("updated"))
            or _time(vulnerability.get("published"))
            or issued
        )
        responses = analysis.get("response") or []
        by_status: dict[str, list[StatedProduct]] = {}
        for affected in vulnerability.get("affects", []):
            ref = str(affected["ref"])
            ref = purls.get(ref, ref)
            versions = affected.get("versions") or []
            if not versions:
                by_status.setdefault(_CYCLONEDX_STATES[state], []).append(StatedProduct(ref))
            for entry in versions:
                status = _AFFECTS_STATUS.get(entry.get("status", "affected"), _CYCLONEDX_STATES[state])
                named = ref
                if "version" in entry and ref.startswith("pkg:"):
                    named = _with_version(ref, str(entry["version"]))
                elif "version" not in entry:
                    named = f"{ref} {entry.get('range', '')}".strip()
                by_status.setdefault(status, []).append(StatedProduct(named))
        aliases = tuple(
            str(reference["id"]) for reference in vulnerability.get("references", []) if "id" in reference
        )
        for status, products in by_status.items():
            justification = analysis.get("justification")
            read.statements.append(
                StatedVex(
                    format="cyclonedx",
                    origin=origin,
                    vulnerability=str(vulnerability.get("id") or ""),
                    aliases=aliases,
                    status=status,
                    justification=_CYCLONEDX_JUSTIFICATIONS.get(justification) if justification else None,
                    statement=analysis.get("detail")
                    or ("False positive." if state == "false_positive" else None),
                    action=", ".join(responses) or None,
                    stated_at=stated_at,
                    products=tuple(products),
                )
            )
    return read


def _bom_refs(document: dict[str, Any]) -> dict[str, str]:
    """bom-ref -> purl of every component of the document (VEX inside a BOM)."""
    found: dict[str, str] = {}
    stack = [document.get("metadata", {}).get("component") or {}, *document.get("components", [])]
    while stack:
        component = stack.pop()
        if component.get("bom-ref") and component.get("purl"):
            found[str(component["bom-ref"])] = str(component["purl"])
        stack.extend(component.get("components", []))
    return found


def _with_version(purl: str, version: str) -> str:
    base = purl.split("#", 1)[0]
    base, _, qualifiers = base.partition("?")
    base = base.rsplit("@", 1)[0] if "@" in base.split("/")[-1] else base
    return f"{base}@{version}" + (f"?{qualifiers}" if qualifiers else "")
