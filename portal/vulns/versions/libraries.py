"""Orderings that existing libraries implement correctly: Debian (python-debian), Maven, RubyGems and
NuGet (univers)."""

from __future__ import annotations

from typing import Any

from debian.debian_support import Version as DebianVersion
from univers.nuget import InvalidNuGetVersion
from univers.versions import InvalidVersion as UniversInvalidVersion
from univers.versions import MavenVersion, NugetVersion, RubygemsVersion

from portal.vulns.versions.base import InvalidVersion


def debian_key(version: str) -> Any:
    try:
        return DebianVersion(version.strip())
    except ValueError as error:
        raise InvalidVersion("Debian", version, str(error)) from error


def _univers_key(ecosystem: str, version_class: Any, version: str) -> Any:
    text = version.strip()
    if not text:
        raise InvalidVersion(ecosystem, version, "empty")
    try:
        return version_class(text)
    except (UniversInvalidVersion, InvalidNuGetVersion, ValueError, TypeError) as error:
        raise InvalidVersion(ecosystem, version, str(error)) from error


def maven_key(version: str) -> Any:
    return _univers_key("Maven", MavenVersion, version)


def rubygems_key(version: str) -> Any:
    return _univers_key("RubyGems", RubygemsVersion, version)


def nuget_key(version: str) -> Any:
    return _univers_key("NuGet", NugetVersion, version)
