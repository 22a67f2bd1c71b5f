"""Small typed builders and checkers shared by the SBOM tests."""

import json
import tempfile
from datetime import UTC, datetime
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json import json_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from portal.sbom import Component, ImageSubject, Inventory, parse_sbom
from portal.sbom.schemas import cyclonedx_validator


def image_subject(**overrides: Any) -> ImageSubject:
    values: dict[str, Any] = {
        "name": "python",
        "repository": "registry.example.com/python",
        "digest": "sha256:" + "ab" * 32,
        "tags": ("3.12", "latest"),
        "architectures": ("amd64", "arm64"),
        "published_at": datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC),
        "version_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    }
    values.update(overrides)
    return ImageSubject(**values)


def component(**overrides: Any) -> Component:
    values: dict[str, Any] = {
        "ref": "pkg:pypi/requests@2.31.0",
        "name": "requests",
        "version": "2.31.0",
        "type": "library",
        "purl": "pkg:pypi/requests@2.31.0",
        "licenses": ("Apache-2.0",),
        "hashes": (("SHA-256", "cd" * 32),),
        "supplier": "Python Software Foundation",
    }
    values.update(overrides)
    return Component(**values)


def cyclonedx_problems(rendered: bytes) -> list[str]:
    document = json.loads(rendered)
    official = [f"{e.instance_path}: {e.message}" for e in cyclonedx_validator("1.5").iter_errors(document)]
    strict = JsonStrictValidator(SchemaVersion.V1_5).validate_str(rendered.decode())
    return official + ([str(strict)] if strict is not None else [])


def spdx_problems(rendered: bytes) -> list[str]:
    with tempfile.NamedTemporaryFile(suffix=".spdx.json") as file:
        file.write(rendered)
        file.flush()
        document = json_parser.parse_from_file(file.name)
    return [m.validation_message for m in validate_full_spdx_document(document, "SPDX-2.3")]


def identities(inventory: Inventory) -> set[str]:
    """What a user checks a document by: purls, and name@version where there is no purl."""
    return {c.purl or f"{c.name}@{c.version}" for c in inventory.components}


def rendered_identities(rendered: bytes, image_purl: str) -> set[str]:
    inventory = parse_sbom(rendered)
    return {identity for identity in identities(inventory) if identity != image_purl}
