"""Orderings that existing libraries implement correctly: Debian (python-debian), Maven, RubyGems and
NuGet (univers, imported when a version of those is first compared: it is 0.1 s of a command's start)."""

from __future__ import annotations

from functools import cache
from typing import Any

from debian.debian_support import Version as DebianVersion

from portal.vulns.versions.base import InvalidVersion


def debian_key(version: str) -> Any:
    try:
        return DebianVersion(version.strip())
    except ValueError as error:
        raise InvalidVersion("Debian", version, str(error)) from error


def _univers_key(ecosystem: str, class_name: str, version: str) -> Any:
    text = version.strip()
    if not text:
        raise InvalidVersion(ecosystem, version, "empty")
    version_class, refusals = _univers(class_name)
    try:
        return version_class(text)
    except refusals as error:
        raise InvalidVersion(ecosystem, version, str(error)) from error


@cache
def _univers(class_name: str) -> tuple[Any, tuple[type[Exception], ...]]:
    """univers's version class of that name, and the errors it refuses a version with."""
    from univers import versions
    from univers.nuget import InvalidNuGetVersion

    refusals = (versions.InvalidVersion, InvalidNuGetVersion, ValueError, TypeError)
    return getattr(versions, class_name), refusals


def maven_key(version: str) -> Any:
    return _univers_key("Maven", "MavenVersion", version)


def rubygems_key(version: str) -> Any:
    return _univers_key("RubyGems", "RubygemsVersion", version)


def nuget_key(version: str) -> Any:
    return _univers_key("NuGet", "NugetVersion", version)
