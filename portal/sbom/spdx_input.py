"""Reading an SPDX 2.2/2.3 JSON document into an inventory.

A tolerant reader of our own: real generators write fractional seconds, legacy purl types, files,
duplicates and relationships to elements that are not in the document, none of which should refuse an
SBOM. What does refuse one is what leaves us unable to name a component: a package without `name` or
`SPDXID`, or a document without its own SPDXID.
"""

import re
from typing import Any

from portal.sbom.model import Component, Inventory, SbomError, SbomProblem, build_inventory
from portal.sbom.vocabulary import (
    SPDX_PURPOSE_TO_TYPE,
    SPDX_TO_CYCLONEDX_ALGORITHM,
    normalize_hash,
    usable_purl,
)

SPDX_INPUT_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_NO_VALUE = {"NOASSERTION", "NONE", ""}
_ACTOR = re.compile(r"^(?:Organization|Person|Tool):\s*(?:(.*)\((.*)\)|(.*))$", re.DOTALL)
_PURL_CATEGORIES = {"PACKAGE-MANAGER", "PACKAGE_MANAGER"}
# Edges read as "element depends on related element" and their reverse.
_FORWARD_EDGES = {"DEPENDS_ON", "CONTAINS"}
_REVERSE_EDGES = {"DEPENDENCY_OF", "CONTAINED_BY"}


def parse_spdx(document: dict[str, Any]) -> Inventory:
    spdx_version = document.get("spdxVersion")
    if spdx_version not in SPDX_INPUT_VERSIONS:
        raise SbomError.at(
            "spdxVersion",
            f"unsupported SPDX version {spdx_version!r}; expected one of " + ", ".join(SPDX_INPUT_VERSIONS),
        )
    problems = []
    document_id = document.get("SPDXID")
    if not isinstance(document_id, str) or not document_id.startswith("SPDXRef-"):
        problems.append(
            SbomProblem("SPDXID", f"the document's SPDXID must be SPDXRef-..., not {document_id!r}")
        )
    raw_packages = document.get("packages", [])
    if not isinstance(raw_packages, list):
        raise SbomError([*problems, SbomProblem("packages", "must be an array")])

    extracted_names = _extracted_license_names(document.get("hasExtractedLicensingInfos"))
    packages: dict[str, Component] = {}
    for index, raw in enumerate(raw_packages):
        path = f"packages[{index}]"
        package_problems = _package_problems(raw, path)
        if package_problems:
            problems.extend(package_problems)
            continue
        packages.setdefault(raw["SPDXID"], _component(raw, extracted_names))
    if problems:
        raise SbomError(problems)

    relationships = [r for r in document.get("relationships", []) if _is_relationship(r)]
    root = _described_root(document, relationships, packages)
    if root is not None:
        del packages[root]
    return build_inventory(list(packages.values()), _edges(relationships), f"SPDX {spdx_version[5:]}")


def _package_problems(raw: Any, path: str) -> list[SbomProblem]:
    if not isinstance(raw, dict):
        return [SbomProblem(path, "a package must be an object")]
    problems = []
    for field in ("name", "SPDXID"):
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            reason = "is required" if value is None else "must be a non-empty string"
            problems.append(SbomProblem(f"{path}.{field}", reason))
    return problems


def _component(raw: dict[str, Any], extracted_names: dict[str, str]) -> Component:
    version = _text(raw.get("versionInfo"))
    return Component(
        ref=raw["SPDXID"],
        name=raw["name"],
        version=version,
        type=SPDX_PURPOSE_TO_TYPE.get(str(raw.get("primaryPackagePurpose")), "library"),
        purl=_purl(raw.get("externalRefs")),
        licenses=_licenses(raw, extracted_names),
        hashes=_hashes(raw.get("checksums")),
        supplier=_actor_name(raw.get("supplier")),
        description=_text(raw.get("description")) or _text(raw.get("summary")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() and value not in _NO_VALUE else None


def _purl(external_refs: Any) -> str | None:
    for ref in external_refs if isinstance(external_refs, list) else []:
        if (
            isinstance(ref, dict)
            and ref.get("referenceType") == "purl"
            and ref.get("referenceCategory") in _PURL_CATEGORIES
            and (purl := usable_purl(ref.get("referenceLocator")))
        ):
            return purl
    return None


def _licenses(raw: dict[str, Any], extracted_names: dict[str, str]) -> tuple[str, ...]:
    licenses = []
    for field in ("licenseConcluded", "licenseDeclared"):
        value = _text(raw.get(field))
        if value is not None:
            # A lone LicenseRef- stands for a license the generator could only name; keep the name.
            licenses.append(extracted_names.get(value.strip(), value.strip()))
    return tuple(dict.fromkeys(licenses))


def _extracted_license_names(infos: Any) -> dict[str, str]:
    names = {}
    for info in infos if isinstance(infos, list) else []:
        if not isinstance(info, dict) or not isinstance(info.get("licenseId"), str):
            continue
        name = _text(info.get("name")) or _text(info.get("extractedText"))
        # Full license texts are not names; such a license stays known by its LicenseRef.
        if name and "\n" not in name.strip() and len(name) <= 200:
            names[info["licenseId"]] = name.strip()
    return names


def _hashes(checksums: Any) -> tuple[tuple[str, str], ...]:
    hashes = []
    for checksum in checksums if isinstance(checksums, list) else []:
        if not isinstance(checksum, dict):
            continue
        algorithm = SPDX_TO_CYCLONEDX_ALGORITHM.get(str(checksum.get("algorithm")))
        value = checksum.get("checksumValue")
        if algorithm and isinstance(value, str) and (pair := normalize_hash(algorithm, value)):
            hashes.append(pair)
    return tuple(dict.fromkeys(hashes))


def _actor_name(value: Any) -> str | None:
    if _text(value) is None:
        return None
    match = _ACTOR.match(value)
    if not match:
        return str(value).strip()
    name = (match.group(1) if match.group(1) is not None else match.group(3)).strip()
    return name or None


def _is_relationship(raw: Any) -> bool:
    return isinstance(raw, dict) and all(
        isinstance(raw.get(key), str) for key in ("spdxElementId", "relatedSpdxElement", "relationshipType")
    )


def _described_root(
    document: dict[str, Any], relationships: list[dict[str, str]], packages: dict[str, Component]
) -> str | None:
    """The package the document describes, when it is the scanned artifact rather than a part of it.

    syft and trivy describe one package that stands for what they scanned (the image, a directory) and
    CONTAINS everything else; it is CycloneDX's metadata.component. The portal's own image takes its
    place, so it is dropped. A document describing several elements (the SPDX example) keeps them all.
    """
    described = {
        r["relatedSpdxElement"]
        for r in relationships
        if r["relationshipType"] == "DESCRIBES" and r["spdxElementId"] == document.get("SPDXID")
    }
    described |= {
        r["spdxElementId"]
        for r in relationships
        if r["relationshipType"] == "DESCRIBED_BY" and r["relatedSpdxElement"] == document.get("SPDXID")
    }
    declared = document.get("documentDescribes")
    if isinstance(declared, list):
        described |= {ref for ref in declared if isinstance(ref, str)}
    if len(described) != 1 or len(packages) < 2:
        return None
    (root,) = described
    return root if root in packages else None


def _edges(relationships: list[dict[str, str]]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for relationship in relationships:
        kind = relationship["relationshipType"]
        source, target = relationship["spdxElementId"], relationship["relatedSpdxElement"]
        if kind in _REVERSE_EDGES:
            source, target = target, source
        elif kind not in _FORWARD_EDGES:
            continue
        # Edges to files, other documents or NOASSERTION are dropped with the unknown refs later.
        edges.setdefault(source, set()).add(target)
    return edges
