"""Rendering an image version's inventory as an SPDX 2.3 JSON document."""

import hashlib
import json
import re
from typing import Any

from portal.sbom.image import (
    TOOL_NAME,
    TOOL_VERSION,
    document_uuid,
    image_purl,
    published_timestamp,
    top_level_refs,
)
from portal.sbom.licenses import is_spdx_expression, license_ref_for, license_refs_in
from portal.sbom.model import Component, ImageSubject, Inventory
from portal.sbom.vocabulary import CYCLONEDX_TO_SPDX_ALGORITHM, TYPE_TO_SPDX_PURPOSE

DOCUMENT_NAMESPACE_BASE = "https://portal.example.com/spdx"
IMAGE_SPDX_ID = "SPDXRef-Image"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9.-]+")
_WHITESPACE = re.compile(r"\s+")
NOASSERTION = "NOASSERTION"


def render_spdx(subject: ImageSubject, inventory: Inventory) -> bytes:
    spdx_ids = {c.ref: package_spdx_id(c) for c in inventory.components}
    extracted: dict[str, dict[str, str]] = {}
    packages = [_image_package(subject)]
    packages += [_package(c, spdx_ids[c.ref], extracted) for c in inventory.components]

    relationships = [_relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_SPDX_ID)]
    relationships += [_relationship(IMAGE_SPDX_ID, "CONTAINS", spdx_ids[c.ref]) for c in inventory.components]
    relationships += [
        _relationship(IMAGE_SPDX_ID, "DEPENDS_ON", spdx_ids[ref]) for ref in top_level_refs(inventory)
    ]
    relationships += [
        _relationship(spdx_ids[ref], "DEPENDS_ON", spdx_ids[target])
        for ref, targets in inventory.dependencies
        for target in targets
    ]

    document: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{subject.name}@{subject.digest}",
        "documentNamespace": f"{DOCUMENT_NAMESPACE_BASE}/{_safe(subject.name)}/{document_uuid(subject)}",
        "creationInfo": {
            "created": published_timestamp(subject),
            "creators": [f"Tool: {TOOL_NAME}-{TOOL_VERSION}", f"Organization: {_actor(subject.supplier)}"],
        },
        "packages": packages,
    }
    if extracted:
        document["hasExtractedLicensingInfos"] = [extracted[key] for key in sorted(extracted)]
    document["relationships"] = relationships
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def package_spdx_id(component: Component) -> str:
    # The digest of the ref keeps ids unique where sanitized names collide; the name keeps them readable.
    digest = hashlib.sha256(component.ref.encode()).hexdigest()[:16]
    return f"SPDXRef-Package-{_safe(component.name)[:40]}-{digest}"


def spdx_license_expression(licenses: tuple[str, ...], extracted: dict[str, dict[str, str]]) -> str:
    """One expression for all of a component's licenses; free-text names become declared LicenseRefs."""
    if not licenses:
        return NOASSERTION
    parts = []
    for value in licenses:
        if is_spdx_expression(value):
            for ref in license_refs_in(value):
                # The source named this license only by reference; its text did not come with it.
                extracted.setdefault(
                    ref, {"licenseId": ref, "extractedText": f"{ref} (text not provided by the source SBOM)"}
                )
                extracted[ref].setdefault("name", ref)
            parts.append(value)
        else:
            ref = license_ref_for(value)
            extracted[ref] = {"licenseId": ref, "extractedText": value, "name": value}
            parts.append(ref)
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({part})" if " " in part else part for part in parts)


def _image_package(subject: ImageSubject) -> dict[str, Any]:
    return {
        "name": subject.name,
        "SPDXID": IMAGE_SPDX_ID,
        "versionInfo": subject.digest,
        "supplier": f"Organization: {_actor(subject.supplier)}",
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "checksums": [{"algorithm": "SHA256", "checksumValue": subject.digest.removeprefix("sha256:")}],
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "externalRefs": [_purl_ref(image_purl(subject))],
        "primaryPackagePurpose": "CONTAINER",
    }


def _package(component: Component, spdx_id: str, extracted: dict[str, dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": component.name, "SPDXID": spdx_id}
    if component.version is not None:
        out["versionInfo"] = component.version
    supplier = component.supplier
    out["supplier"] = f"Organization: {_actor(supplier)}" if supplier else NOASSERTION
    out["downloadLocation"] = NOASSERTION
    out["filesAnalyzed"] = False
    if component.hashes:
        out["checksums"] = [
            {"algorithm": CYCLONEDX_TO_SPDX_ALGORITHM[alg], "checksumValue": content}
            for alg, content in component.hashes
        ]
    expression = spdx_license_expression(component.licenses, extracted)
    out["licenseConcluded"] = expression
    out["licenseDeclared"] = expression
    out["copyrightText"] = NOASSERTION
    if component.description is not None:
        out["description"] = component.description
    if component.purl is not None:
        out["externalRefs"] = [_purl_ref(component.purl)]
    out["primaryPackagePurpose"] = TYPE_TO_SPDX_PURPOSE.get(component.type, "OTHER")
    return out


def _purl_ref(purl: str) -> dict[str, str]:
    return {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}


def _relationship(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _safe(value: str) -> str:
    return _UNSAFE_ID.sub("-", value).strip("-") or "unnamed"


def _actor(name: str) -> str:
    # SPDX reads "Organization: Name (email)"; a name with its own parentheses gets an empty email so
    # that the parentheses stay part of the name.
    name = _WHITESPACE.sub(" ", name).strip()
    return f"{name} ()" if "(" in name or ")" in name else name
