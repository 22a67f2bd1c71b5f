"""The official CycloneDX JSON schemas, as cyclonedx-python-lib ships them, compiled once per version.

The bom schemas `$ref` spdx.SNAPSHOT.schema.json, jsf-0.82.SNAPSHOT.schema.json and (1.7)
cryptography-defs.SNAPSHOT.schema.json by relative URI; the
retriever serves them from the same package so that validation never touches the network.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

CYCLONEDX_SCHEMA_PACKAGE = "cyclonedx.schema._res"
CYCLONEDX_INPUT_VERSIONS = ("1.4", "1.5", "1.6", "1.7")


def _load(file_name: str) -> Any:
    return json.loads((resources.files(CYCLONEDX_SCHEMA_PACKAGE) / file_name).read_text())


def _retrieve(uri: str) -> Any:
    file_name = uri.split("#", 1)[0].rsplit("/", 1)[-1]
    if file_name not in {
        "spdx.SNAPSHOT.schema.json",
        "jsf-0.82.SNAPSHOT.schema.json",
        "cryptography-defs.SNAPSHOT.schema.json",
    }:
        raise ValueError(f"schema {uri} is not available offline")
    return _load(file_name)


@cache
def cyclonedx_validator(spec_version: str) -> jsonschema_rs.Validator:
    import jsonschema_rs  # here: a command that validates nothing never loads it

    schema = _load(f"bom-{spec_version}.SNAPSHOT.schema.json")
    return jsonschema_rs.validator_for(schema, retriever=_retrieve, validate_formats=True)
