import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.sbom import Component, Inventory, parse_sbom, render_cyclonedx, render_spdx
from portal.sbom.image import image_purl
from portal.sbom.licenses import is_spdx_expression, license_ref_for
from tests.sbom.factories import (
    component,
    cyclonedx_problems,
    identities,
    image_subject,
    rendered_identities,
    spdx_problems,
)
from tests.shared_fixtures import fixtures_dir

# A few conformance documents with the widest spread of component fields (nesting, licenses, hashes).
CONFORMANCE_SAMPLES = [
    "valid-assembly-1.5.json",
    "valid-component-hashes-1.5.json",
    "valid-dependency-1.5.json",
    "valid-license-expression-1.5.json",
    "valid-license-name-1.5.json",
    "valid-metadata-supplier-1.5.json",
]


def render_inputs() -> list[Path]:
    base = fixtures_dir()
    samples = [base / "cyclonedx-1.5-conformance" / "valid" / name for name in CONFORMANCE_SAMPLES]
    return sorted((base / "sboms").glob("*.json")) + samples


@pytest.fixture(params=render_inputs(), ids=[p.name for p in render_inputs()])
def inventory(request: pytest.FixtureRequest) -> Inventory:
    path: Path = request.param
    return parse_sbom(path.read_bytes())


def test_rendered_cyclonedx_is_valid_and_lists_every_component(inventory: Inventory) -> None:
    subject = image_subject()
    rendered = render_cyclonedx(subject, inventory)

    assert cyclonedx_problems(rendered) == []
    assert rendered_identities(rendered, image_purl(subject)) == identities(inventory)


def test_rendered_spdx_is_valid_and_lists_every_component(inventory: Inventory) -> None:
    subject = image_subject()
    rendered = render_spdx(subject, inventory)

    assert spdx_problems(rendered) == []
    assert rendered_identities(rendered, image_purl(subject)) == identities(inventory)


def _combined(licenses: tuple[str, ...]) -> str:
    """A component's licenses as one SPDX expression, free-text names standing as their LicenseRef.

    That is how the SPDX document carries several licenses of which some are names; a lone name reads
    back as the name itself.
    """
    parts = [x if is_spdx_expression(x) else license_ref_for(x) for x in licenses]
    return " AND ".join(f"({x})" if " " in x and len(parts) > 1 else x for x in parts)


def _facts(components: tuple[Component, ...], root: str) -> list[tuple[str, ...]]:
    return sorted(
        (c.purl or "", c.name, c.version or "", _combined(c.licenses), repr(c.hashes), c.supplier or "")
        for c in components
        if c.purl != root
    )


def test_both_documents_carry_the_same_component_facts(inventory: Inventory) -> None:
    subject = image_subject()
    root = image_purl(subject)

    from_cdx = _facts(parse_sbom(render_cyclonedx(subject, inventory)).components, root)
    from_spdx = _facts(parse_sbom(render_spdx(subject, inventory)).components, root)
    assert from_cdx == from_spdx == _facts(inventory.components, root)


def test_rendering_is_deterministic(inventory: Inventory) -> None:
    subject = image_subject()
    assert render_cyclonedx(subject, inventory) == render_cyclonedx(subject, inventory)
    assert render_spdx(subject, inventory) == render_spdx(subject, inventory)
    stored = Inventory.from_json(inventory.to_json())
    assert render_spdx(subject, stored) == render_spdx(subject, inventory)


def test_the_image_is_the_described_root_in_cyclonedx() -> None:
    subject = image_subject()
    inventory = Inventory(
        components=(component(), component(ref="urllib3", name="urllib3", purl="pkg:pypi/urllib3@2")),
        dependencies=(("pkg:pypi/requests@2.31.0", ("urllib3",)),),
        source_format="CycloneDX 1.5",
    )
    document = json.loads(render_cyclonedx(subject, inventory))

    root = document["metadata"]["component"]
    expected_purl = "pkg:oci/python@sha256%3A" + "ab" * 32 + "?repository_url=registry.example.com/python"
    assert (root["type"], root["bom-ref"], root["purl"]) == ("container", expected_purl, expected_purl)
    assert document["serialNumber"] == "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"
    assert document["metadata"]["timestamp"] == "2024-05-01T12:30:45Z"
    assert document["dependencies"] == [
        {"ref": expected_purl, "dependsOn": ["pkg:pypi/requests@2.31.0"]},
        {"ref": "pkg:pypi/requests@2.31.0", "dependsOn": ["urllib3"]},
    ]


def test_the_image_is_the_described_root_in_spdx() -> None:
    subject = image_subject(published_at=datetime(2024, 5, 1, 14, 30, 45, 999999, tzinfo=UTC))
    inventory = Inventory(components=(component(),), dependencies=(), source_format="SPDX 2.3")
    document = json.loads(render_spdx(subject, inventory))

    assert document["creationInfo"] == {
        "created": "2024-05-01T14:30:45Z",
        "creators": ["Tool: portal-0.1.0", "Organization: Portal"],
    }
    assert "0f8fad5b-d9cb-469f-a165-70867728950e" in document["documentNamespace"]
    image, package = document["packages"]
    assert image["primaryPackagePurpose"] == "CONTAINER"
    assert image["externalRefs"][0]["referenceLocator"] == image_purl(subject)
    assert package["supplier"] == "Organization: Python Software Foundation"
    assert package["checksums"] == [{"algorithm": "SHA256", "checksumValue": "cd" * 32}]
    kinds = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in document["relationships"]
    }
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", image["SPDXID"]) in kinds
    assert (image["SPDXID"], "CONTAINS", package["SPDXID"]) in kinds


@pytest.mark.parametrize(
    "licenses",
    [
        ("GPLv3+",),
        ("MIT", "Some Custom License (c) 2020"),
        ("Apache-2.0 OR MIT", "BSD style"),
        ("OpenSSL+",),
        ("GPL-2.0-with-classpath-exception",),
        ("GPL-2.0-only WITH Classpath-exception-2.0",),
        ("LicenseRef-foo AND MIT",),
        ("mit or apache",),
    ],
)
def test_license_strings_spdx_tools_would_refuse_are_declared_license_refs(licenses: tuple[str, ...]) -> None:
    inventory = Inventory(components=(component(licenses=licenses),), dependencies=(), source_format="x")
    subject = image_subject()

    assert spdx_problems(render_spdx(subject, inventory)) == []
    assert cyclonedx_problems(render_cyclonedx(subject, inventory)) == []
    for rendered in (render_spdx(subject, inventory), render_cyclonedx(subject, inventory)):
        (read,) = [c for c in parse_sbom(rendered).components if c.name == "requests"]
        assert _combined(read.licenses) == _combined(licenses)


def test_unsafe_names_and_colliding_refs_still_give_valid_unique_spdx_ids() -> None:
    components = (
        component(ref="a/b", name="ünïcode name/with spaces", purl=None, supplier="Acme (EU) Ltd"),
        component(ref="a-b", name="ünïcode name/with spaces", purl=None, supplier=None, licenses=()),
    )
    inventory = Inventory(components=components, dependencies=(("a/b", ("a-b",)),), source_format="x")
    rendered = render_spdx(image_subject(), inventory)

    assert spdx_problems(rendered) == []
    ids = [p["SPDXID"] for p in json.loads(rendered)["packages"]]
    assert len(ids) == len(set(ids)) == 3
    suppliers = {c.supplier for c in parse_sbom(rendered).components}
    assert "Acme (EU) Ltd" in suppliers
