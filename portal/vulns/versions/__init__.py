"""Version ordering per package ecosystem."""

from portal.vulns.versions.base import InvalidVersion, SortKey
from portal.vulns.versions.ordering import (
    KeyFunction,
    base_ecosystem,
    compare,
    key_function,
    supported_ecosystems,
    version_key,
)

__all__ = [
    "InvalidVersion",
    "KeyFunction",
    "SortKey",
    "base_ecosystem",
    "compare",
    "key_function",
    "supported_ecosystems",
    "version_key",
]
