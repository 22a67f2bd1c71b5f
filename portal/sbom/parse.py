"""Reading an uploaded SBOM, whichever of the accepted formats it is in."""

import json
from typing import Any

from portal.sbom.cyclonedx_input import parse_cyclonedx
from portal.sbom.model import MAX_SBOM_BYTES, Inventory, SbomError
from portal.sbom.spdx_input import parse_spdx


def parse_sbom(data: bytes) -> Inventory:
    if len(data) > MAX_SBOM_BYTES:
        raise SbomError.at("$", f"the document is {len(data)} bytes; at most {MAX_SBOM_BYTES} are accepted")
    document = _load_json(data)
    if not isinstance(document, dict):
        raise SbomError.at("$", f"the document must be a JSON object, not {_json_type(document)}")
    if "bomFormat" in document:
        if document["bomFormat"] != "CycloneDX":
            raise SbomError.at(
                "bomFormat", f"unknown bomFormat {document['bomFormat']!r}; expected 'CycloneDX'"
            )
        return parse_cyclonedx(document)
    if "spdxVersion" in document:
        return parse_spdx(document)
    raise SbomError.at("$", "not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document")


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except UnicodeDecodeError as error:
        raise SbomError.at("$", f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise SbomError.at(
            "$", f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise SbomError.at("$", "the JSON is nested too deeply") from None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
