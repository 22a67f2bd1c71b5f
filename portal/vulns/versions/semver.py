"""Semantic Versioning 2.0 ordering (npm, crates.io, OSV `SEMVER` ranges) and Go module versions."""

from __future__ import annotations

import re

from portal.vulns.versions.base import InvalidVersion

# Lenient on purpose: advisories and SBOMs carry "1.2", "v1.2.3", "1.21rc2" (Go toolchains).
_SEMVER = re.compile(
    r"""
    (?P<major>\d+)
    (?:\.(?P<minor>\d+))?
    (?:\.(?P<patch>\d+))?
    (?:-?(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?
    (?:\+(?P<build>[0-9A-Za-z.-]*))?
    """,
    re.VERBOSE,
)

_RELEASE = (1,)

SemverKey = tuple[int, int, int, tuple[object, ...]]


def semver_key(version: str, ecosystem: str = "SEMVER") -> SemverKey:
    text = version.strip()
    if text[:1] in ("v", "V"):
        text = text[1:]
    match = _SEMVER.fullmatch(text)
    if match is None:
        raise InvalidVersion(ecosystem, version, "not a semantic version")
    pre = match.group("pre")
    if pre is None:
        # a release sorts after every pre-release of the same core version; build metadata is ignored
        pre_key: tuple[object, ...] = _RELEASE
    else:
        identifiers: list[object] = [0]
        for identifier in pre.split("."):
            if identifier.isascii() and identifier.isdigit():
                identifiers.append((0, int(identifier), ""))
            else:
                identifiers.append((1, 0, identifier))
        pre_key = tuple(identifiers)
    return (
        int(match.group("major")),
        int(match.group("minor") or 0),
        int(match.group("patch") or 0),
        pre_key,
    )


# A Go release tag without its "go": golang/vuln's GoTagToSemver reads `1.21rc2` as `1.21.0-rc.2` and
# `1.20-pre4` as `1.20.0-pre.4` (internal/semver/semver.go).
_GO_TAG = re.compile(r"(?P<minor>\d+\.\d+)(?P<patch>\.\d+)?(?:(?P<kind>beta|rc|-pre)(?P<number>\d+))?")


def go_key(version: str) -> SemverKey:
    """Go module versions (`v1.2.3`, `v0.0.0-20210101000000-abcdef123456`, `v2.0.0+incompatible`) and
    Go release versions as the standard library and toolchain carry them (`go1.17.10`, `1.21rc2`);
    pseudo-versions are pre-releases, so semver orders them."""
    text = version.strip()
    text = text.removeprefix("go") if text.startswith("go") else text.removeprefix("v")
    tag = _GO_TAG.fullmatch(text)
    if tag is not None:
        text = f"{tag['minor']}{tag['patch'] or '.0'}"
        if tag["kind"]:
            text += f"-{tag['kind'].lstrip('-')}.{tag['number']}"
    return semver_key(text, "Go")
