"""Which ordering each OSV ecosystem uses, and the one entry point to it."""

from __future__ import annotations

from collections.abc import Callable

from portal.vulns.versions.apk import ApkVersion
from portal.vulns.versions.base import InvalidVersion, SortKey
from portal.vulns.versions.libraries import debian_key, maven_key, nuget_key, rubygems_key
from portal.vulns.versions.pep440 import pep440_key
from portal.vulns.versions.rpm import RpmVersion
from portal.vulns.versions.semver import go_key, semver_key

KeyFunction = Callable[[str], SortKey]


def _apk_key(version: str) -> SortKey:
    return ApkVersion(version.strip())


def _rpm_key(version: str) -> SortKey:
    return RpmVersion(version.strip())


def _npm_key(version: str) -> SortKey:
    return semver_key(version, "npm")


def _crates_key(version: str) -> SortKey:
    return semver_key(version, "crates.io")


_APK = ("Alpine", "Wolfi", "Chainguard", "Alpaquita", "BellSoft Hardened Containers", "MinimOS")
_DEB = ("Debian", "Ubuntu")
_RPM = (
    "Red Hat",
    "Rocky Linux",
    "AlmaLinux",
    "CentOS",
    "Fedora",
    "openSUSE",
    "SUSE",
    "Mageia",
    "openEuler",
    "Photon OS",
    "Azure Linux",
    "Oracle Linux",
)

_KEY_FUNCTIONS: dict[str, KeyFunction] = {
    **dict.fromkeys(_APK, _apk_key),
    **dict.fromkeys(_DEB, debian_key),
    **dict.fromkeys(_RPM, _rpm_key),
    "PyPI": pep440_key,
    "npm": _npm_key,
    "crates.io": _crates_key,
    "Go": go_key,
    "Maven": maven_key,
    "RubyGems": rubygems_key,
    "NuGet": nuget_key,
    # the OSV range type, not an ecosystem: SEMVER ranges are compared as semver whatever the ecosystem
    "SEMVER": semver_key,
}


def base_ecosystem(ecosystem: str) -> str:
    """`Debian:11` -> `Debian`, `Alpine:v3.16` -> `Alpine`: a release suffix keeps the ordering."""
    return ecosystem.split(":", 1)[0].strip()


def key_function(ecosystem: str) -> KeyFunction | None:
    """The version key of an ecosystem (suffix allowed), or None when it has no ordering here."""
    return _KEY_FUNCTIONS.get(base_ecosystem(ecosystem))


def supported_ecosystems() -> frozenset[str]:
    return frozenset(name for name in _KEY_FUNCTIONS if name != "SEMVER")


def version_key(ecosystem: str, version: str) -> SortKey:
    """A key ordering `version` within `ecosystem`; raises InvalidVersion when it cannot be placed."""
    function = key_function(ecosystem)
    if function is None:
        raise InvalidVersion(ecosystem, version, "no version ordering for this ecosystem")
    return function(version)


def compare(ecosystem: str, a: str, b: str) -> int:
    key_a, key_b = version_key(ecosystem, a), version_key(ecosystem, b)
    if key_a < key_b:
        return -1
    return 1 if key_b < key_a else 0
