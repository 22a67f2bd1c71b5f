"""Reading a CycloneDX 1.4-1.7 JSON document into an inventory, after validating it against its schema.

Go binaries: syft writes the Go version each module was compiled with (`syft:metadata:goCompiledVersion`)
but older syft releases no `stdlib` component; the standard library is then added as newer syft writes
it (`stdlib`, `go1.23.8`, `pkg:golang/stdlib@1.23.8`), so its advisories can be matched.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from portal.sbom.model import Component, Inventory, SbomError, SbomProblem, build_inventory, json_path
from portal.sbom.schemas import CYCLONEDX_INPUT_VERSIONS, cyclonedx_validator
from portal.sbom.vocabulary import cyclonedx_type, normalize_hash, usable_purl

_MAX_PROBLEMS = 100
_MAX_REASON = 300


def parse_cyclonedx(document: dict[str, Any]) -> Inventory:
    spec_version = document.get("specVersion")
    if spec_version not in CYCLONEDX_INPUT_VERSIONS:
        raise SbomError.at(
            "specVersion",
            f"unsupported CycloneDX version {spec_version!r}; expected one of "
            + ", ".join(CYCLONEDX_INPUT_VERSIONS),
        )
    problems = _schema_problems(document, spec_version)
    if problems:
        raise SbomError(problems)

    components: dict[str, Component] = {}
    go_versions: set[str] = set()
    for path, raw in _walk_components(document.get("components", []), "components"):
        component = _component(raw, path)
        # A ref seen twice names the same thing; the first occurrence wins.
        components.setdefault(component.ref, component)
        go_versions.update(_go_compiled_versions(raw))
    for stdlib in _missing_go_stdlib(go_versions, components.values()):
        components.setdefault(stdlib.ref, stdlib)

    edges: dict[str, set[str]] = {}
    for dependency in document.get("dependencies", []):
        edges.setdefault(dependency["ref"], set()).update(dependency.get("dependsOn", []))
    return build_inventory(list(components.values()), edges, f"CycloneDX {spec_version}")


_GO_COMPILED_VERSION = "syft:metadata:goCompiledVersion"


def _go_compiled_versions(raw: dict[str, Any]) -> Iterator[str]:
    for prop in raw.get("properties", []):
        value = prop.get("value")
        if prop.get("name") == _GO_COMPILED_VERSION and isinstance(value, str) and value.startswith("go"):
            # "go1.21.3 X:boringcrypto": the version is the first word
            yield value.split()[0]


def _missing_go_stdlib(go_versions: set[str], components: Iterable[Component]) -> list[Component]:
    if any(c.purl and c.purl.startswith("pkg:golang/stdlib@") for c in components):
        return []
    added = []
    for version in sorted(go_versions):
        purl = f"pkg:golang/stdlib@{version.removeprefix('go')}"
        added.append(
            Component(
                ref=f"portal-go-stdlib-{version}",
                name="stdlib",
                version=version,
                type="library",
                purl=purl,
                licenses=("BSD-3-Clause",),
                hashes=(),
                supplier=None,
                description=f"Go standard library (from {_GO_COMPILED_VERSION})",
            )
        )
    return added


def _schema_problems(document: dict[str, Any], spec_version: str) -> list[SbomProblem]:
    problems = []
    for error in cyclonedx_validator(spec_version).iter_errors(document):
        reason = error.message
        if len(reason) > _MAX_REASON:
            reason = reason[:_MAX_REASON] + "..."
        problems.append(SbomProblem(path=json_path(error.instance_path), reason=reason))
        if len(problems) >= _MAX_PROBLEMS:
            break
    return problems


def _walk_components(raw_components: list[dict[str, Any]], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    # Nested components (assemblies) are flattened; their refs and dependency edges stay as they are.
    for index, raw in enumerate(raw_components):
        component_path = f"{path}[{index}]"
        yield component_path, raw
        yield from _walk_components(raw.get("components", []), f"{component_path}.components")


def _component(raw: dict[str, Any], path: str) -> Component:
    version = raw.get("version") or None
    hashes = (normalize_hash(h["alg"], h["content"]) for h in raw.get("hashes", []))
    return Component(
        # A component without bom-ref cannot be a dependency target; its path keeps it unique.
        ref=raw.get("bom-ref") or path,
        name=raw["name"],
        version=version,
        type=cyclonedx_type(raw.get("type")),
        purl=usable_purl(raw.get("purl")),
        licenses=_licenses(raw.get("licenses", [])),
        hashes=tuple(dict.fromkeys(h for h in hashes if h is not None)),
        supplier=_supplier(raw),
        description=raw.get("description") or None,
    )


def _licenses(choices: list[dict[str, Any]]) -> tuple[str, ...]:
    licenses: list[str] = []
    for choice in choices:
        if "expression" in choice:
            licenses.append(choice["expression"])
            continue
        license_ = choice.get("license", {})
        value = license_.get("id") or license_.get("name")
        if value:
            licenses.append(value)
    return tuple(dict.fromkeys(licenses))


def _supplier(raw: dict[str, Any]) -> str | None:
    supplier = raw.get("supplier", {}).get("name")
    if supplier:
        return str(supplier)
    if raw.get("publisher"):
        return str(raw["publisher"])
    if raw.get("author"):
        return str(raw["author"])
    for author in raw.get("authors", []):
        if author.get("name"):
            return str(author["name"])
    return None
