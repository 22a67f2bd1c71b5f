from portal.demo.catalog import DEMO_IMAGES, demo_sbom
from portal.demo.vulnerabilities import demo_advisory_records
from portal.sbom import parse_sbom
from portal.vulns import AdvisoryIndex, parse_advisory

# What the shipped advisories find in the shipped SBOMs: (image, package, advisory, fixed version)
EXPECTED = {
    ("python", "libssl3", "PORTAL-DEMO-2024-0001", "3.0.14-1~deb12u1"),
    ("python", "zlib1g", "PORTAL-DEMO-2023-0002", None),
    ("python", "libsqlite3-0", "PORTAL-DEMO-2023-0003", "3.40.1-2+deb12u1"),
    ("python", "setuptools", "PORTAL-DEMO-2024-0004", "70.0.0"),
    ("nginx", "libssl3", "PORTAL-DEMO-2024-0001", "3.3.1-r1"),
    ("nginx", "libcrypto3", "PORTAL-DEMO-2024-0001", "3.3.1-r1"),
    ("nginx", "musl", "PORTAL-DEMO-2025-0005", "1.2.5-r1"),
    ("nginx", "nginx", "PORTAL-DEMO-2024-0006", "1.26.2-r0"),
    ("node", "libgcc-s1", "PORTAL-DEMO-2023-0008", "12.2.0-14+deb12u1"),
    ("node", "libstdc++6", "PORTAL-DEMO-2023-0008", "12.2.0-14+deb12u1"),
}


def test_the_shipped_advisories_are_osv_records_of_our_own_with_fixed_modified_times() -> None:
    records = demo_advisory_records()
    assert 6 <= len(records) <= 10
    for source, record in records:
        advisory = parse_advisory(record)
        assert source.endswith(f"{advisory.id}.json")
        assert record["schema_version"] == "1.6.0"
        assert advisory.id.startswith("PORTAL-DEMO-")
        assert [alias for alias in advisory.aliases if alias.startswith("CVE-")]
        assert advisory.affected and advisory.summary and advisory.published
    rated = [record for _, record in records if record.get("severity")]
    assert len(rated) > len(records) / 2


def test_the_shipped_advisories_match_the_demo_sboms_as_designed() -> None:
    index = AdvisoryIndex(parse_advisory(record) for _, record in demo_advisory_records())
    found = {
        (demo.name, component.name, match.advisory_id, match.fixed_version)
        for demo in DEMO_IMAGES
        for component in parse_sbom(demo_sbom(demo.sbom_file)).components
        if component.purl
        for match in index.match_purl(component.purl)
    }
    assert found == EXPECTED
    # semver 7.6.0 is past the 7.5.2 that fixed PORTAL-DEMO-2022-0007: its range must not reach it
    assert not index.match("npm", "semver", "7.6.0")
    assert index.match("npm", "semver", "7.5.1")
