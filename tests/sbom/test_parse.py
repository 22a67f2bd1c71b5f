import json
from pathlib import Path

import pytest

from portal.sbom import MAX_SBOM_BYTES, Inventory, SbomError, parse_sbom
from tests.shared_fixtures import fixtures_dir


def sbom_fixtures() -> list[Path]:
    return sorted((fixtures_dir() / "sboms").glob("*.json"))


def conformance(kind: str) -> list[Path]:
    return sorted((fixtures_dir() / "cyclonedx-1.5-conformance" / kind).glob("*.json"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.mark.parametrize("path", sbom_fixtures(), ids=_ids(sbom_fixtures()))
def test_every_real_generator_output_is_read(path: Path) -> None:
    inventory = parse_sbom(path.read_bytes())

    assert inventory.components
    refs = [c.ref for c in inventory.components]
    assert len(refs) == len(set(refs))
    assert list(inventory.components) == sorted(inventory.components, key=lambda c: c.sort_key())
    known = set(refs)
    for ref, targets in inventory.dependencies:
        assert ref in known and set(targets) <= known


@pytest.mark.parametrize("path", conformance("valid"), ids=_ids(conformance("valid")))
def test_every_conformance_valid_document_is_read(path: Path) -> None:
    inventory = parse_sbom(path.read_bytes())
    assert inventory.source_format == "CycloneDX 1.5"


@pytest.mark.parametrize("path", conformance("invalid"), ids=_ids(conformance("invalid")))
def test_every_conformance_invalid_document_is_refused_with_path_and_reason(path: Path) -> None:
    with pytest.raises(SbomError) as refused:
        parse_sbom(path.read_bytes())

    assert refused.value.problems
    for problem in refused.value.problems:
        assert problem.reason
        assert problem.path == "$" or problem.path.split("[")[0].split(".")[0] in json.loads(
            path.read_bytes()
        )


def test_a_refused_conformance_document_names_the_bad_field() -> None:
    path = fixtures_dir() / "cyclonedx-1.5-conformance" / "invalid" / "invalid-component-type-1.5.json"
    with pytest.raises(SbomError) as refused:
        parse_sbom(path.read_bytes())
    assert [p.path for p in refused.value.problems] == ["components[0].type"]
    assert "foo" in refused.value.problems[0].reason


def test_broken_spdx_is_refused_naming_each_package_and_the_document_id() -> None:
    path = fixtures_dir() / "sboms" / "invalid" / "invalid-spdx-identifier.spdx.json"
    with pytest.raises(SbomError) as refused:
        parse_sbom(path.read_bytes())
    paths = [p.path for p in refused.value.problems]
    assert paths == ["SPDXID", "packages[0].name", "packages[1].name", "packages[2].name"]
    assert "packages[0].name" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe\x00garbage", "not"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"CycloneDX"', "JSON object"),
        (b'{"hello": "world"}', "not a CycloneDX"),
        (b'{"bomFormat": "SWID", "specVersion": "1.5"}', "bomFormat"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.2"}', "unsupported CycloneDX version"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "unsupported CycloneDX version"),
        (b'{"spdxVersion": "SPDX-2.1", "SPDXID": "SPDXRef-DOCUMENT"}', "unsupported SPDX version"),
        (b'{"spdxVersion": "SPDX-3.0"}', "unsupported SPDX version"),
    ],
)
def test_what_is_not_a_supported_sbom_is_refused_with_a_clear_reason(data: bytes, reason: str) -> None:
    with pytest.raises(SbomError) as refused:
        parse_sbom(data)
    assert reason in str(refused.value)


def test_an_oversized_document_is_refused_before_it_is_read() -> None:
    data = b" " * (MAX_SBOM_BYTES + 1)
    with pytest.raises(SbomError) as refused:
        parse_sbom(data)
    assert refused.value.problems[0].path == "$"
    assert "at most" in refused.value.problems[0].reason


def test_spdx_quirks_of_real_generators_are_tolerated() -> None:
    # syft 0.57: fractional seconds, PACKAGE_MANAGER with an underscore, legacy pkg:alpine purls, files.
    inventory = parse_sbom((fixtures_dir() / "sboms" / "alpine-syft-0.57.spdx.json").read_bytes())
    zlib = next(c for c in inventory.components if c.name == "zlib")
    assert zlib.purl == "pkg:alpine/zlib@1.2.12-r3?arch=x86_64&upstream=zlib&distro=alpine-3.16.2"
    assert zlib.licenses == ("Zlib",)
    assert len(inventory.components) == 14  # files are not components


def test_the_spdx_root_that_stands_for_the_scanned_image_is_not_a_component() -> None:
    inventory = parse_sbom((fixtures_dir() / "sboms" / "kubectl-syft-0.90.spdx.json").read_bytes())
    assert len(inventory.components) == 88
    assert not any(c.purl and c.purl.startswith("pkg:oci/") for c in inventory.components)


def test_spdx_and_cyclonedx_of_the_same_environment_give_the_same_components() -> None:
    sboms = fixtures_dir() / "sboms"
    from_cdx = parse_sbom((sboms / "python-app-syft-1.18.cdx.json").read_bytes())
    from_spdx = parse_sbom((sboms / "python-app-syft-1.18.spdx.json").read_bytes())
    assert sorted(c.purl or c.name for c in from_cdx.components) == sorted(
        c.purl or c.name for c in from_spdx.components
    )
    assert len(from_cdx.dependencies) == len(from_spdx.dependencies) == 6


def test_spdx_fields_are_extracted() -> None:
    inventory = parse_sbom((fixtures_dir() / "sboms" / "spdx-2.3-example.spdx.json").read_bytes())
    saxon = next(c for c in inventory.components if c.name == "Saxon")
    assert saxon.hashes == (("SHA-1", "85ed0817af83a24ad8da68c2b5094de69833983c"),)
    assert saxon.licenses == ("MPL-1.0",)
    glibc = next(c for c in inventory.components if c.name == "glibc")
    assert glibc.supplier == "Jane Doe"
    assert glibc.licenses == ("(LGPL-2.0-only OR LicenseRef-3)", "(LGPL-2.0-only AND LicenseRef-3)")
    assert glibc.type == "library"


def test_cyclonedx_fields_are_extracted() -> None:
    inventory = parse_sbom(
        (fixtures_dir() / "sboms" / "quarkus-cyclonedx-maven-plugin.cdx.json").read_bytes()
    )
    brotli = next(c for c in inventory.components if c.name == "brotli4j")
    assert brotli.licenses == ("Apache-2.0",)
    assert ("SHA-256", "cbe0688bc3f0dba1b30b89327deb9480b8f5d10a9faadb58ce212bcdf11d0a3b") in brotli.hashes
    assert len(inventory.dependencies) == 60


def _spdx(packages: list[dict[str, object]], relationships: list[dict[str, str]]) -> bytes:
    document = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "creationInfo": {"created": "2024-01-01T00:00:00.123Z", "creators": ["Tool: test"]},
        "packages": packages,
        "relationships": relationships,
    }
    return json.dumps(document).encode()


def test_spdx_duplicates_are_deduped_and_dangling_relationships_dropped() -> None:
    package = {
        "SPDXID": "SPDXRef-a",
        "name": "a",
        "versionInfo": "1",
        "supplier": "Organization: Acme (ops@acme.test)",
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "MIT",
        "checksums": [
            {"algorithm": "SHA256", "checksumValue": "AB" * 32},
            {"algorithm": "ADLER32", "checksumValue": "1"},
        ],
        "primaryPackagePurpose": "OPERATING-SYSTEM",
    }
    other = {"SPDXID": "SPDXRef-b", "name": "b"}
    relationships = [
        {"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-b"},
        {
            "spdxElementId": "SPDXRef-b",
            "relationshipType": "DEPENDENCY_OF",
            "relatedSpdxElement": "SPDXRef-a",
        },
        {
            "spdxElementId": "SPDXRef-a",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "SPDXRef-gone",
        },
        {"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "NOASSERTION"},
    ]
    inventory = parse_sbom(_spdx([package, package, other], relationships))

    assert [c.ref for c in inventory.components] == ["SPDXRef-a", "SPDXRef-b"]
    a = inventory.components[0]
    assert (a.supplier, a.licenses, a.type) == ("Acme", ("MIT",), "operating-system")
    assert a.hashes == (("SHA-256", "ab" * 32),)
    assert inventory.dependencies == (("SPDXRef-a", ("SPDXRef-b",)),)


def test_nested_cyclonedx_components_are_flattened_with_their_edges() -> None:
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "application",
                "bom-ref": "app",
                "name": "app",
                "components": [
                    {"type": "library", "bom-ref": "lib", "name": "lib", "purl": "pkg:npm/lib@1?x=y"}
                ],
            }
        ],
        "dependencies": [{"ref": "app", "dependsOn": ["lib", "missing"]}],
    }
    inventory = parse_sbom(json.dumps(document).encode())
    assert {c.ref for c in inventory.components} == {"app", "lib"}
    assert next(c for c in inventory.components if c.ref == "lib").purl == "pkg:npm/lib@1?x=y"
    assert inventory.dependencies == (("app", ("lib",)),)


@pytest.mark.parametrize("path", sbom_fixtures(), ids=_ids(sbom_fixtures()))
def test_the_stored_inventory_round_trips_exactly(path: Path) -> None:
    inventory = parse_sbom(path.read_bytes())
    stored = inventory.to_json()
    assert Inventory.from_json(stored) == inventory
    assert Inventory.from_json(stored).to_json() == stored


def _kubectl_without_stdlib() -> dict[str, object]:
    document = json.loads((fixtures_dir() / "sboms" / "kubectl-1.30-syft-1.18.cdx.json").read_bytes())
    document["components"] = [c for c in document["components"] if c["name"] != "stdlib"]
    return document


def test_a_go_binary_without_a_stdlib_component_gets_one_from_syfts_compiled_go_version() -> None:
    document = _kubectl_without_stdlib()
    inventory = parse_sbom(json.dumps(document).encode())
    (stdlib,) = [c for c in inventory.components if c.name == "stdlib"]
    assert (stdlib.version, stdlib.purl) == ("go1.23.8", "pkg:golang/stdlib@1.23.8")
    # the SBOM's own stdlib component is kept as it is, never doubled
    real = parse_sbom((fixtures_dir() / "sboms" / "kubectl-1.30-syft-1.18.cdx.json").read_bytes())
    assert [c.purl for c in real.components if c.name == "stdlib"] == ["pkg:golang/stdlib@1.23.8"]


@pytest.mark.parametrize("spec_version", ["1.6", "1.7"])
def test_cyclonedx_1_6_and_1_7_input_is_read(spec_version: str) -> None:
    document = _kubectl_without_stdlib()
    document["specVersion"] = spec_version
    document["$schema"] = f"http://cyclonedx.org/schema/bom-{spec_version}.schema.json"
    inventory = parse_sbom(json.dumps(document).encode())
    assert inventory.source_format == f"CycloneDX {spec_version}"
    assert any(c.purl == "pkg:golang/golang.org/x/net@v0.23.0" for c in inventory.components)
