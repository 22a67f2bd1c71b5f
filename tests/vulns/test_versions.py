from pathlib import Path

import pytest

from portal.vulns.versions import InvalidVersion, base_ecosystem, compare, version_key
from tests.shared_fixtures import fixtures_dir

EXPECTED = {"<": -1, "=": 0, ">": 1}


def _vector_lines(name: str) -> list[str]:
    path: Path = fixtures_dir() / "versions" / name
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _vector_params(name: str) -> list[str]:
    # collected lazily: a missing fixture folder skips (or fails under CI) inside the test, not at import
    try:
        return _vector_lines(name)
    except pytest.skip.Exception:
        return ["<fixtures missing>"]


def _check_vector(ecosystem: str, line: str) -> None:
    if line == "<fixtures missing>":
        fixtures_dir()
    a, operator, b = line.split(" ")
    assert compare(ecosystem, a, b) == EXPECTED[operator], line
    assert compare(ecosystem, b, a) == -EXPECTED[operator], line


@pytest.mark.parametrize("line", _vector_params("alpine-versions.txt"))
def test_alpine_vectors(line: str) -> None:
    _check_vector("Alpine", line)


@pytest.mark.parametrize("line", _vector_params("redhat-versions.txt"))
def test_redhat_vectors(line: str) -> None:
    _check_vector("Red Hat", line)


@pytest.mark.parametrize(
    ("ecosystem", "lower", "higher"),
    [
        # apk suffixes univers refuses
        ("Wolfi", "1.2_git20230101", "1.2_p1"),
        ("Chainguard", "3.0.13-r0", "3.0.13-r1"),
        ("Alpine", "1.2_rc1", "1.2"),
        ("Alpine", "1.2", "1.2_git1"),
        # Debian: epochs, tilde, revisions
        ("Debian", "1:1.0", "2:0.1"),
        ("Debian", "9.9", "1:0.1"),
        ("Debian", "1.0~rc1", "1.0"),
        ("Debian", "1.0~~", "1.0~"),
        ("Debian", "1.0-1", "1.0-2"),
        ("Debian", "1.0-9", "1.0-10"),
        ("Debian", "1.0-1", "1.0+dfsg-1"),
        ("Ubuntu", "2.31-0ubuntu9.9", "2.31-0ubuntu9.10"),
        # rpm: tilde and caret
        ("Rocky Linux", "1.0~rc1", "1.0"),
        ("AlmaLinux", "1.0", "1.0^git1"),
        # PEP 440: dev < pre < final < post, local
        ("PyPI", "1.0.dev0", "1.0a1"),
        ("PyPI", "1.0a1", "1.0b2"),
        ("PyPI", "1.0rc1", "1.0"),
        ("PyPI", "1.0", "1.0.post1"),
        ("PyPI", "1.0", "1.0+local.1"),
        ("PyPI", "1!0.1", "1!1.0"),
        ("PyPI", "2.0", "1!0.1"),
        ("PyPI", "1.0-SNAPSHOT", "0.1"),  # invalid PEP 440 sorts before every valid version
        # semver: pre-release rules
        ("npm", "1.0.0-alpha", "1.0.0-alpha.1"),
        ("npm", "1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("npm", "1.0.0-beta.2", "1.0.0-beta.11"),
        ("npm", "1.0.0-rc.1", "1.0.0"),
        ("crates.io", "0.9.9", "0.10.0"),
        # Go: v prefix, pseudo-versions, +incompatible
        ("Go", "v0.0.0-20210101000000-abcdef123456", "v0.0.1"),
        ("Go", "v0.0.0-20210101000000-abcdef123456", "v0.0.0-20220101000000-000000000000"),
        ("Go", "v1.2.3", "v1.10.0"),
        ("Go", "v2.0.0+incompatible", "v2.1.0+incompatible"),
        ("Go", "1.21rc2", "go1.21.0"),
        # Go release tags as golang/vuln reads them: 1.21rc2 is 1.21.0-rc.2, go1.17.10 is 1.17.10
        ("Go", "1.21rc2", "1.21.0-rc.3"),
        ("Go", "1.21.0-rc.1", "1.21rc2"),
        ("Go", "go1.21beta1", "1.21rc1"),
        ("Go", "go1.17.9", "go1.17.10"),
        ("Go", "go1.17.10", "1.18"),
        # apk-tools' commit hash vectors (src/version.c TOKEN_COMMIT_HASH)
        ("Wolfi", "1.0~1234", "1.0~2345"),
        ("Wolfi", "1.0~abc", "1.0~abd"),
        ("Alpine", "1.0", "1.0~abc"),
        ("Alpine", "1.0~1234-r0", "1.0~1234-r1"),
        ("Alpine", "1.0~1234-r1", "1.0~2345-r0"),
        ("Alpine", "1.0-r5", "1.0~abc"),
        # Maven ComparableVersion
        ("Maven", "1.0-alpha-1", "1.0-beta-1"),
        ("Maven", "1.0-RC1", "1.0-SNAPSHOT"),
        ("Maven", "1.0-SNAPSHOT", "1.0"),
        ("Maven", "1.0", "1.0-sp1"),
        ("Maven", "2.3", "2.17.1"),
        ("RubyGems", "1.0.0.pre", "1.0.0"),
        ("NuGet", "1.0.0-beta", "1.0.0"),
    ],
)
def test_ordering(ecosystem: str, lower: str, higher: str) -> None:
    assert compare(ecosystem, lower, higher) == -1
    assert compare(ecosystem, higher, lower) == 1
    assert version_key(ecosystem, lower) < version_key(ecosystem, higher)


@pytest.mark.parametrize(
    ("ecosystem", "a", "b"),
    [
        ("Go", "v2.0.0+incompatible", "2.0.0"),
        ("Go", "v1.2.3", "1.2.3"),
        ("Go", "go1.17.10", "v1.17.10"),
        ("Go", "go1.20-pre4", "1.20.0-pre.4"),
        ("Go", "go1.19", "1.19.0"),
        ("npm", "1.0.0+build.1", "1.0.0+build.2"),
        ("Debian", "0:1.0", "1.0"),
        ("Red Hat", "0:1.0-1", "1.0-1"),
        ("PyPI", "1.0", "1.0.0"),
        ("Maven", "1.0", "1.0.0"),
        ("Alpine", "1.0-r0", "1.0"),
    ],
)
def test_equal_versions(ecosystem: str, a: str, b: str) -> None:
    assert compare(ecosystem, a, b) == 0
    assert version_key(ecosystem, a) == version_key(ecosystem, b)


@pytest.mark.parametrize(
    ("ecosystem", "version"),
    [("npm", "not-a-version"), ("Go", "latest"), ("Debian", ""), ("PyPI", " "), ("Packagist", "1.0")],
)
def test_invalid_versions_raise(ecosystem: str, version: str) -> None:
    with pytest.raises(InvalidVersion):
        version_key(ecosystem, version)


def test_ecosystem_suffix_keeps_the_ordering() -> None:
    assert base_ecosystem("Debian:11") == "Debian"
    assert base_ecosystem("Alpine:v3.16") == "Alpine"
    assert compare("Alpine:v3.16", "1.2_rc1", "1.2") == -1
    assert compare("Ubuntu:22.04:LTS", "1:1.0", "2.0") == 1


def test_apk_tuple_shortcut_agrees_with_the_full_comparison() -> None:
    from itertools import combinations

    from portal.vulns.versions.apk import ApkVersion

    strings = {part for line in _vector_lines("alpine-versions.txt") for part in line.split(" ")[::2]}
    versions = [ApkVersion(text) for text in sorted(strings)]
    shortcut = [version for version in versions if version._tuple is not None]
    assert len(shortcut) > 100
    for a, b in combinations(shortcut, 2):
        fast = a.compare(b)
        saved, a._tuple = a._tuple, None
        assert a.compare(b) == fast, (a, b)
        a._tuple = saved
