"""SPDX license ids and expressions: which strings both output formats can carry as they are.

A string that is not a valid SPDX expression (a free-text name such as "GPLv3+") is kept as a name in
CycloneDX and becomes `LicenseRef-<sanitized>` with its text in SPDX.
"""

import hashlib
import json
import re
from functools import cache
from importlib import resources

from portal.sbom.schemas import CYCLONEDX_SCHEMA_PACKAGE

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_OPERATORS = {"AND", "OR"}
# Exceptions share the CycloneDX id list with licenses; SPDX allows them only after WITH. Most say so in
# their id; these do not.
_EXCEPTIONS_WITHOUT_THE_WORD = frozenset(
    {"GPL-CC-1.0", "LLGPL", "Linux-syscall-note", "SHL-2.0", "SHL-2.1", "eCos-2.0"}
)


@cache
def known_license_ids() -> frozenset[str]:
    # The SPDX license and exception list that the CycloneDX schema accepts as `license.id`.
    text = (resources.files(CYCLONEDX_SCHEMA_PACKAGE) / "spdx.SNAPSHOT.schema.json").read_text()
    return frozenset(json.loads(text)["enum"])


def is_license_id(value: str) -> bool:
    return value in known_license_ids()


def is_spdx_expression(value: str) -> bool:
    tokens = _TOKEN.findall(value)
    if not tokens or "".join(tokens) != re.sub(r"\s+", "", value):
        return False
    position = _parse_or(tokens, 0)
    return position == len(tokens)


def _is_exception_id(value: str) -> bool:
    return is_license_id(value) and ("exception" in value.lower() or value in _EXCEPTIONS_WITHOUT_THE_WORD)


def license_refs_in(expression: str) -> list[str]:
    return [t for t in _TOKEN.findall(expression) if t.startswith("LicenseRef-")]


def license_ref_for(name: str) -> str:
    """A stable `LicenseRef-` id for a free-text license name."""
    sanitized = _UNSAFE.sub("-", name).strip("-.")[:60]
    if sanitized and sanitized == name:
        return f"LicenseRef-{sanitized}"
    # Different names may sanitize alike ("BSD or MIT" / "BSD/MIT"); a short digest keeps them apart.
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"LicenseRef-{sanitized or 'unnamed'}-{digest}"


def _parse_or(tokens: list[str], position: int) -> int:
    position = _parse_with(tokens, position)
    while position != -1 and position < len(tokens) and tokens[position] in _OPERATORS:
        position = _parse_with(tokens, position + 1)
    return position


def _parse_with(tokens: list[str], position: int) -> int:
    position = _parse_atom(tokens, position)
    if position != -1 and position < len(tokens) and tokens[position] == "WITH":
        if position + 1 < len(tokens) and _is_exception_id(tokens[position + 1]):
            return position + 2
        return -1
    return position


def _parse_atom(tokens: list[str], position: int) -> int:
    if position == -1 or position >= len(tokens):
        return -1
    token = tokens[position]
    if token == "(":
        position = _parse_or(tokens, position + 1)
        if position == -1 or position >= len(tokens) or tokens[position] != ")":
            return -1
        return position + 1
    # No "or later" suffix of our own: spdx-tools refuses it on most ids ("OpenSSL+"); the ids that have
    # one in the list ("GPL-2.0+") are ids in their own right.
    if (is_license_id(token) and not _is_exception_id(token)) or _LICENSE_REF.match(token):
        return position + 1
    return -1
