"""PEP 440 ordering (PyPI), with the pre-PEP 440 "legacy" ordering for versions it rejects."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version

from portal.vulns.versions.base import InvalidVersion

_LEGACY_COMPONENT = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_REPLACEMENTS = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}

Pep440Key = tuple[int, Version | tuple[str, ...]]


def _legacy_parts(version: str) -> tuple[str, ...]:
    # setuptools' old LegacyVersion, which packaging dropped in 22.0; releases on PyPI still carry
    # such versions ("2004d", "1.0-SNAPSHOT"), and they sort before every valid version
    parts: list[str] = []
    for raw in _LEGACY_COMPONENT.split(version.lower()):
        part = _LEGACY_REPLACEMENTS.get(raw, raw)
        if not part or part == ".":
            continue
        part = part.zfill(8) if part[:1].isdigit() else "*" + part
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    parts.append("*final")
    return tuple(parts)


def pep440_key(version: str) -> Pep440Key:
    text = version.strip()
    if not text:
        raise InvalidVersion("PyPI", version, "empty")
    try:
        return (1, Version(text))
    except PackagingInvalidVersion:
        return (0, _legacy_parts(text))
