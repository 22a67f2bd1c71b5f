"""Rendering an image version's inventory as a CycloneDX 1.5 JSON document."""

import json
from typing import Any

from portal.sbom.image import (
    TOOL_NAME,
    TOOL_VERSION,
    document_uuid,
    image_purl,
    published_timestamp,
    top_level_refs,
)
from portal.sbom.licenses import is_license_id, is_spdx_expression, license_ref_for
from portal.sbom.model import Component, ImageSubject, Inventory


def render_cyclonedx(subject: ImageSubject, inventory: Inventory) -> bytes:
    root_ref = image_purl(subject)
    # A component whose ref happens to be the image's purl (an inventory read from our own output)
    # must not share the image's bom-ref.
    bom_refs = {c.ref: (c.ref if c.ref != root_ref else f"component:{c.ref}") for c in inventory.components}
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{document_uuid(subject)}",
        "version": 1,
        "metadata": {
            "timestamp": published_timestamp(subject),
            "tools": {"components": [{"type": "application", "name": TOOL_NAME, "version": TOOL_VERSION}]},
            "component": _image_component(subject, root_ref),
            "supplier": {"name": subject.supplier},
        },
        "components": [_component(c, bom_refs[c.ref]) for c in inventory.components],
        "dependencies": [
            {"ref": root_ref, "dependsOn": [bom_refs[ref] for ref in top_level_refs(inventory)]},
            *(
                {"ref": bom_refs[ref], "dependsOn": [bom_refs[target] for target in targets]}
                for ref, targets in inventory.dependencies
            ),
        ],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _image_component(subject: ImageSubject, root_ref: str) -> dict[str, Any]:
    properties = [{"name": "portal:image:repository", "value": subject.repository}]
    properties += [{"name": "portal:image:tag", "value": tag} for tag in subject.tags]
    properties += [{"name": "portal:image:architecture", "value": arch} for arch in subject.architectures]
    return {
        "type": "container",
        "bom-ref": root_ref,
        "supplier": {"name": subject.supplier},
        "name": subject.name,
        "version": subject.digest,
        "hashes": [{"alg": "SHA-256", "content": subject.digest.removeprefix("sha256:")}],
        "purl": root_ref,
        "properties": properties,
    }


def _component(component: Component, bom_ref: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": component.type, "bom-ref": bom_ref}
    if component.supplier is not None:
        out["supplier"] = {"name": component.supplier}
    out["name"] = component.name
    if component.version is not None:
        out["version"] = component.version
    if component.description is not None:
        out["description"] = component.description
    if component.hashes:
        out["hashes"] = [{"alg": alg, "content": content} for alg, content in component.hashes]
    if component.licenses:
        out["licenses"] = cyclonedx_licenses(component.licenses)
    if component.purl is not None:
        out["purl"] = component.purl
    return out


def cyclonedx_licenses(licenses: tuple[str, ...]) -> list[dict[str, Any]]:
    """CycloneDX 1.5 takes either license objects (SPDX id or free name) or exactly one expression."""
    compound = [value for value in licenses if not is_license_id(value) and is_spdx_expression(value)]
    if not compound:
        return [{"license": {"id": v} if is_license_id(v) else {"name": v}} for v in licenses]
    if len(licenses) == 1:
        return [{"expression": licenses[0]}]
    parts = [value if is_spdx_expression(value) else license_ref_for(value) for value in licenses]
    return [{"expression": " AND ".join(f"({part})" if " " in part else part for part in parts)}]
