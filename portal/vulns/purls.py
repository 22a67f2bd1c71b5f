"""From a component's package URL to the OSV ecosystem, name and version its advisories use."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from packageurl import PackageURL

from portal.vulns.versions import base_ecosystem


class PurlError(ValueError):
    """A package URL that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class PurlPackage:
    """A component as the advisories name it.

    `release` is the distribution release where the purl says it ("11" for Debian 11, "v3.16" for
    Alpine 3.16); `source_name`/`source_version` name the source package that distribution advisories
    are filed against (syft's `upstream`, apk's `origin`).
    """

    ecosystem: str
    name: str
    version: str | None
    release: str | None = None
    source_name: str | None = None
    source_version: str | None = None

    @property
    def osv_ecosystem(self) -> str:
        return f"{self.ecosystem}:{self.release}" if self.release else self.ecosystem


_PYPI_SEPARATORS: Final = re.compile(r"[-_.]+")


def _pypi_name(name: str) -> str:
    # PEP 503
    return _PYPI_SEPARATORS.sub("-", name).lower()


_NAME_NORMALIZERS: Final[Mapping[str, Callable[[str], str]]] = {
    "PyPI": _pypi_name,
    # registries that ignore case
    "NuGet": str.lower,
    "crates.io": str.lower,
    "Packagist": str.lower,
}


def normalize_name(ecosystem: str, name: str) -> str:
    """The one spelling under which advisories and components of `ecosystem` meet."""
    normalizer = _NAME_NORMALIZERS.get(base_ecosystem(ecosystem))
    name = name.strip()
    return normalizer(name) if normalizer else name


_APK_NAMESPACES: Final = {"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard"}
_DEB_NAMESPACES: Final = {"debian": "Debian", "ubuntu": "Ubuntu"}
# CentOS rebuilds Red Hat's sources with the same versions, so Red Hat's advisories are the ones that apply
_RPM_NAMESPACES: Final = {
    "redhat": "Red Hat",
    "rhel": "Red Hat",
    "centos": "Red Hat",
    "rocky": "Rocky Linux",
    "rockylinux": "Rocky Linux",
    "alma": "AlmaLinux",
    "almalinux": "AlmaLinux",
    "opensuse": "openSUSE",
    "suse": "SUSE",
    "sles": "SUSE",
    "mageia": "Mageia",
    "openeuler": "openEuler",
    "photon": "Photon OS",
    "azurelinux": "Azure Linux",
    "mariner": "Azure Linux",
}
_LANGUAGE_TYPES: Final = {
    "pypi": "PyPI",
    "npm": "npm",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "maven": "Maven",
    "golang": "Go",
    "composer": "Packagist",
}


def _distro(qualifiers: Mapping[str, str]) -> tuple[str, str]:
    """syft's `distro=debian-11` / `distro=alpine-3.16.2` as (id, version)."""
    distro = qualifiers.get("distro", "")
    distro_id, _, version = distro.partition("-")
    return distro_id.lower(), version


def _split_source(value: str | None) -> tuple[str | None, str | None]:
    # syft writes `upstream=openssl`, `upstream=busybox@1.35.0-r17` or, for rpm, a source rpm file name
    if not value:
        return None, None
    if value.endswith(".src.rpm"):
        parts = value.removesuffix(".src.rpm").rsplit("-", 2)
        if len(parts) == 3:
            return parts[0], f"{parts[1]}-{parts[2]}"
        return value, None
    name, _, version = value.partition("@")
    if not version and " (" in name and name.endswith(")"):
        # Debian's "Source: glibc (2.31-13)" form
        name, _, version = name[:-1].partition(" (")
    return name.strip() or None, version.strip() or None


def _distro_package(purl: PackageURL, qualifiers: Mapping[str, str]) -> PurlPackage | None:
    namespace = (purl.namespace or "").lower()
    distro_id, distro_version = _distro(qualifiers)
    release: str | None = None
    source = qualifiers.get("upstream") or qualifiers.get("origin")
    version = purl.version
    if purl.type in ("apk", "alpine"):
        ecosystem = _APK_NAMESPACES.get(namespace) or _APK_NAMESPACES.get(distro_id)
        if ecosystem is None and purl.type == "alpine" and not namespace:
            ecosystem = "Alpine"
        if ecosystem == "Alpine" and distro_version.count(".") >= 1:
            release = "v" + ".".join(distro_version.split(".")[:2])
    elif purl.type == "deb":
        ecosystem = _DEB_NAMESPACES.get(namespace) or _DEB_NAMESPACES.get(distro_id)
        if ecosystem and distro_version:
            release = distro_version
    else:
        ecosystem = _RPM_NAMESPACES.get(namespace) or _RPM_NAMESPACES.get(distro_id)
        epoch = qualifiers.get("epoch")
        if version and epoch and epoch != "0" and ":" not in version:
            version = f"{epoch}:{version}"
    if ecosystem is None:
        return None
    source_name, source_version = _split_source(source)
    if source_name == purl.name:
        source_name = None if source_version in (None, version) else source_name
    return PurlPackage(ecosystem, purl.name, version, release, source_name, source_version)


def _language_name(purl: PackageURL) -> str:
    namespace = purl.namespace or ""
    if purl.type == "maven":
        return f"{namespace}:{purl.name}" if namespace else purl.name
    if purl.type == "npm" and namespace:
        scope = namespace if namespace.startswith("@") else f"@{namespace}"
        return f"{scope}/{purl.name}"
    if purl.type in ("golang", "composer") and namespace:
        return f"{namespace}/{purl.name}"
    return purl.name


def parse_purl(purl: str) -> PurlPackage | None:
    """The OSV view of a component purl, or None when its type has no OSV ecosystem here (oci, generic)."""
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError as error:
        raise PurlError(f"invalid package URL {purl!r}: {error}") from error
    qualifiers: Mapping[str, str] = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    if parsed.type in ("apk", "alpine", "deb", "rpm"):
        return _distro_package(parsed, qualifiers)
    ecosystem = _LANGUAGE_TYPES.get(parsed.type)
    if ecosystem is None:
        return None
    return PurlPackage(ecosystem, normalize_name(ecosystem, _language_name(parsed)), parsed.version)
