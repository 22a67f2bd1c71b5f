"""The component inventory that the portal keeps for an image version, and the errors of reading one."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_SBOM_BYTES = 100 * 1024 * 1024

# The inventory's storage form carries a version so that a later change of shape can still read old rows.
_STORAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Component:
    ref: str
    name: str
    version: str | None
    type: str
    purl: str | None
    licenses: tuple[str, ...]
    hashes: tuple[tuple[str, str], ...]
    supplier: str | None
    description: str | None = None

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.purl or "", self.name, self.version or "", self.ref)


@dataclass(frozen=True, slots=True)
class Inventory:
    components: tuple[Component, ...]
    dependencies: tuple[tuple[str, tuple[str, ...]], ...]
    source_format: str

    def to_json(self) -> bytes:
        document = {
            "v": _STORAGE_VERSION,
            "sourceFormat": self.source_format,
            "components": [
                [
                    c.ref,
                    c.name,
                    c.version,
                    c.type,
                    c.purl,
                    list(c.licenses),
                    [list(h) for h in c.hashes],
                    c.supplier,
                    c.description,
                ]
                for c in self.components
            ],
            "dependencies": [[ref, list(on)] for ref, on in self.dependencies],
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> "Inventory":
        document: dict[str, Any] = json.loads(data)
        if document.get("v") != _STORAGE_VERSION:
            raise ValueError(f"unknown inventory storage version {document.get('v')!r}")
        components = tuple(
            Component(
                ref=ref,
                name=name,
                version=version,
                type=type_,
                purl=purl,
                licenses=tuple(licenses),
                hashes=tuple((alg, content) for alg, content in hashes),
                supplier=supplier,
                description=description,
            )
            for ref, name, version, type_, purl, licenses, hashes, supplier, description in document[
                "components"
            ]
        )
        dependencies = tuple((ref, tuple(on)) for ref, on in document["dependencies"])
        return cls(components=components, dependencies=dependencies, source_format=document["sourceFormat"])


# (purl, name, version) of a component: all a scan reads of it
ComponentRef = tuple[str | None, str, str | None]


def inventory_components(data: bytes | str) -> list[ComponentRef]:
    """(purl, name, version) of each component of a stored inventory, in its order, without building the
    rest (a scan reads hundreds of thousands of components)."""
    document: dict[str, Any] = json.loads(data)
    if document.get("v") != _STORAGE_VERSION:
        raise ValueError(f"unknown inventory storage version {document.get('v')!r}")
    return [(row[4], row[1], row[2]) for row in document["components"]]


def build_inventory(components: list[Component], edges: dict[str, set[str]], source_format: str) -> Inventory:
    """Put components and edges in their deterministic order, dropping edges to refs that do not exist."""
    ordered = tuple(sorted(components, key=Component.sort_key))
    known = {c.ref for c in ordered}
    dependencies = []
    for ref in sorted(edges):
        if ref not in known:
            continue
        targets = tuple(sorted(t for t in edges[ref] if t in known and t != ref))
        if targets:
            dependencies.append((ref, targets))
    return Inventory(components=ordered, dependencies=tuple(dependencies), source_format=source_format)


@dataclass(frozen=True, slots=True)
class SbomProblem:
    path: str
    reason: str


class SbomError(Exception):
    """A refused SBOM document; `problems` says where and why."""

    _SHOWN = 5

    def __init__(self, problems: list[SbomProblem]) -> None:
        self.problems = problems
        shown = "; ".join(f"{p.path}: {p.reason}" for p in problems[: self._SHOWN])
        more = len(problems) - self._SHOWN
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"invalid SBOM: {shown}{suffix}")

    @classmethod
    def at(cls, path: str, reason: str) -> "SbomError":
        return cls([SbomProblem(path=path, reason=reason)])


@dataclass(frozen=True, slots=True)
class ImageSubject:
    name: str
    repository: str
    digest: str
    tags: tuple[str, ...]
    architectures: tuple[str, ...]
    published_at: datetime
    version_id: str
    supplier: str = "Portal"


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """`["components", 3, "type"]` -> `components[3].type`; the document itself is `$`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "$"
