import pytest

from portal.vulns import PurlError, PurlPackage, normalize_name, parse_purl


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        ("pkg:pypi/Django_Rest.Framework@3.0", PurlPackage("PyPI", "django-rest-framework", "3.0")),
        (
            "pkg:golang/github.com/docker/distribution@v2.8.2+incompatible",
            PurlPackage("Go", "github.com/docker/distribution", "v2.8.2+incompatible"),
        ),
        ("pkg:golang/stdlib@go1.20.3", PurlPackage("Go", "stdlib", "go1.20.3")),
        ("pkg:npm/%40babel/core@7.0.0", PurlPackage("npm", "@babel/core", "7.0.0")),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            PurlPackage("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
        ),
        ("pkg:cargo/Serde@1.0.0", PurlPackage("crates.io", "serde", "1.0.0")),
        ("pkg:gem/rails@7.0.0", PurlPackage("RubyGems", "rails", "7.0.0")),
        ("pkg:nuget/Newtonsoft.Json@12.0.1", PurlPackage("NuGet", "newtonsoft.json", "12.0.1")),
        (
            "pkg:deb/debian/libc6@2.31-13?arch=amd64&upstream=glibc&distro=debian-11",
            PurlPackage("Debian", "libc6", "2.31-13", "11", "glibc"),
        ),
        ("pkg:deb/ubuntu/bash@5.1-6ubuntu1", PurlPackage("Ubuntu", "bash", "5.1-6ubuntu1")),
        (
            "pkg:alpine/ssl_client@1.35.0-r17?arch=x86_64&upstream=busybox&distro=alpine-3.16.2",
            PurlPackage("Alpine", "ssl_client", "1.35.0-r17", "v3.16", "busybox"),
        ),
        (
            "pkg:apk/wolfi/libcrypto3@3.1.4-r0?origin=openssl",
            PurlPackage("Wolfi", "libcrypto3", "3.1.4-r0", None, "openssl"),
        ),
        ("pkg:apk/chainguard/busybox@1.36.1-r0", PurlPackage("Chainguard", "busybox", "1.36.1-r0")),
        (
            "pkg:apk/alpine/ssl_client@1.35.0-r17?upstream=busybox%401.35.0-r17",
            PurlPackage("Alpine", "ssl_client", "1.35.0-r17", None, "busybox", "1.35.0-r17"),
        ),
        (
            "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810",
            PurlPackage("Red Hat", "openssl-libs", "1:1.0.2k-16.el7"),
        ),
        (
            "pkg:rpm/rocky/openssl-libs@3.0.7-1.el9?upstream=openssl-3.0.7-1.el9.src.rpm",
            PurlPackage("Rocky Linux", "openssl-libs", "3.0.7-1.el9", None, "openssl", "3.0.7-1.el9"),
        ),
    ],
)
def test_maps_purls_to_osv(purl: str, expected: PurlPackage) -> None:
    assert parse_purl(purl) == expected


def test_release_joins_the_osv_ecosystem() -> None:
    package = parse_purl("pkg:deb/debian/tzdata@2021a-1?distro=debian-11")
    assert package is not None and package.osv_ecosystem == "Debian:11"


@pytest.mark.parametrize("purl", ["pkg:oci/kubectl@sha256:abc", "pkg:generic/thing@1", "pkg:apk/unknown/x@1"])
def test_types_without_an_osv_ecosystem(purl: str) -> None:
    assert parse_purl(purl) is None


def test_malformed_purl() -> None:
    with pytest.raises(PurlError):
        parse_purl("not a purl")


def test_names_normalize_on_both_sides() -> None:
    assert normalize_name("PyPI", "Jinja2") == normalize_name("PyPI", "jinja2")
    assert normalize_name("PyPI", "zope.interface") == "zope-interface"
    assert normalize_name("Go", "github.com/BurntSushi/toml") == "github.com/BurntSushi/toml"
