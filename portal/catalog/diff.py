"""What changed between two versions' inventories and hardening tags.

Packages are keyed by their purl without version or qualifiers (`pkg:golang/golang.org/x/net`), so an
upgrade reads `from -> to` instead of one package removed and another added; a component without a purl
by its type and name. A key held at several versions (two copies of a Go module) compares as the sorted
set of its versions.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.sbom.model import Component, Inventory
from portal.vex.products import purl_key


@dataclass(frozen=True)
class PackageChange:
    key: str
    name: str
    from_version: str | None
    to_version: str | None
    purl: str | None = None


@dataclass
class InventoryDiff:
    added: list[PackageChange] = field(default_factory=list)
    removed: list[PackageChange] = field(default_factory=list)
    changed: list[PackageChange] = field(default_factory=list)
    hardening_added: list[str] = field(default_factory=list)
    hardening_removed: list[str] = field(default_factory=list)


def _key(component: Component) -> str:
    if component.purl:
        named = purl_key(component.purl)
        if named is not None:
            return "pkg:" + named.key
    return f"{component.type}:{component.name}"


def _packages(inventory: Inventory) -> dict[str, tuple[str, list[str], str | None]]:
    """key -> (name, its versions sorted, a purl of it)."""
    found: dict[str, tuple[str, set[str], str | None]] = {}
    for component in inventory.components:
        key = _key(component)
        name, versions, purl = found.get(key, (component.name, set(), component.purl))
        if component.version:
            versions.add(component.version)
        found[key] = (name, versions, purl)
    return {key: (name, sorted(versions), purl) for key, (name, versions, purl) in found.items()}


def _joined(versions: list[str]) -> str | None:
    return ", ".join(versions) if versions else None


def diff_inventories(
    before: Inventory, after: Inventory, tags_before: Iterable[str] = (), tags_after: Iterable[str] = ()
) -> InventoryDiff:
    old, new = _packages(before), _packages(after)
    diff = InventoryDiff()
    for key in sorted(new.keys() - old.keys()):
        name, versions, purl = new[key]
        diff.added.append(PackageChange(key, name, None, _joined(versions), purl))
    for key in sorted(old.keys() - new.keys()):
        name, versions, purl = old[key]
        diff.removed.append(PackageChange(key, name, _joined(versions), None, purl))
    for key in sorted(old.keys() & new.keys()):
        if old[key][1] != new[key][1]:
            diff.changed.append(
                PackageChange(key, new[key][0], _joined(old[key][1]), _joined(new[key][1]), new[key][2])
            )
    diff.hardening_added = sorted(set(tags_after) - set(tags_before))
    diff.hardening_removed = sorted(set(tags_before) - set(tags_after))
    return diff
