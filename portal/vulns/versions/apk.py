"""apk version ordering (Alpine, Wolfi, Chainguard).

A version is `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`; suffixes order
alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p. A `~hash` compares as a string, before the
revision, and a version with one is newer than the same version without (apk-tools' src/version.c,
TOKEN_COMMIT_HASH; its vectors `1.0~1234 < 1.0~2345`, `1.0 < 1.0~abc`, `1.0~1234-r1 < 1.0~2345-r0`).

Written here because univers' `AlpineLinuxVersion` refuses versions apk and the advisory feeds use
(`_git`, `_svn`, `_cvs`, `_hg` suffixes, `-r` without digits, `6.6.2p1`, `0.8.21.r2`) and compares
`>=`/`<=` as strings (aboutcode-org/univers #59, #172).

Malformed versions are not rejected: apk itself installs them, so they are ordered the way
osv-scalibr's test vectors (the fixture `alpine-versions.txt`) expect. apk-tools master tokenizes
these differently in a dozen corner cases (`1-r` vs `1-r0`, `0..8` vs `0...8`); the vectors are what
OSV consumers agree on, so they win.
"""

from __future__ import annotations

import re
from typing import Any, Self

from portal.vulns.versions.base import ComparedKey, InvalidVersion

_NUMBERS = re.compile(r"(?:\d+\.?)*")
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_HASH = re.compile(r"~([0-9a-fA-F]+)")
_REVISION = re.compile(r"-r(\d*)")

_NO_SUFFIX = 4
_SUFFIX_WEIGHT = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_MISSING_SUFFIX = (_NO_SUFFIX, 0)


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


class ApkVersion(ComparedKey):
    __slots__ = (
        "_tuple",
        "commit",
        "invalid",
        "letter",
        "numbers",
        "remainder",
        "revision",
        "suffixes",
        "version",
    )

    def __init__(self, version: str) -> None:
        if not version:
            raise InvalidVersion("apk", version, "empty")
        self.version = version
        rest = version
        numbers_text = _NUMBERS.match(rest)
        assert numbers_text is not None  # the pattern matches the empty string
        self.numbers: tuple[str, ...] = ()
        if numbers_text.group():
            parts = numbers_text.group().split(".")
            # "1..2": apk stops reading numbers at the empty component
            self.numbers = tuple(parts[: parts.index("")] if "" in parts else parts)
            rest = rest[numbers_text.end() :]
        self.letter = ""
        if rest and "a" <= rest[0] <= "z":
            self.letter, rest = rest[0], rest[1:]
        suffixes: list[tuple[int, int]] = []
        while match := _SUFFIX.match(rest):
            suffixes.append((_SUFFIX_WEIGHT[match.group(1)], int(match.group(2) or 0)))
            rest = rest[match.end() :]
        self.suffixes = tuple(suffixes)
        self.commit: tuple[int, str] = (0, "")
        if hash_match := _HASH.match(rest):
            self.commit = (1, hash_match.group(1))
            rest = rest[hash_match.end() :]
        self.revision = 0
        self.invalid = False
        if rest:
            if revision := _REVISION.match(rest):
                self.revision = int(revision.group(1) or 0)
                rest = rest[revision.end() :]
            else:
                self.invalid = True
        self.remainder = rest
        self._tuple = self._as_tuple()

    def _as_tuple(self) -> tuple[object, ...] | None:
        """The same order as a plain tuple, for the common versions where no string rule applies.

        Trailing zero components compare equal to missing ones, so they are dropped; a sentinel ends
        the suffixes because a missing suffix weighs "none", between pre-releases and patches.
        """
        if self.invalid or any(len(part) > 1 and part[0] == "0" for part in self.numbers[1:]):
            return None
        numbers = [int(part) for part in self.numbers]
        while numbers and numbers[-1] == 0:
            numbers.pop()
        return (
            tuple(numbers),
            self.letter,
            (*self.suffixes, _MISSING_SUFFIX),
            self.commit,
            self.revision,
            not self.remainder,
        )

    def compare(self, other: Self) -> int:
        if self._tuple is not None and other._tuple is not None:
            return _cmp(self._tuple, other._tuple)
        if self.invalid and other.invalid:
            return _cmp(self.version, other.version)
        return (
            self._compare_numbers(other)
            or self._compare_letters(other)
            or self._compare_suffixes(other)
            or _cmp(self.commit, other.commit)
            or _cmp(self.revision, other.revision)
            # trailing garbage makes a version older than the same version without it
            or _cmp(not self.remainder, not other.remainder)
        )

    def _compare_numbers(self, other: Self) -> int:
        mine, theirs = self.numbers, other.numbers
        for index in range(max(len(mine), len(theirs))):
            a = mine[index] if index < len(mine) else "0"
            b = theirs[index] if index < len(theirs) else "0"
            # after the first component a leading zero means a string comparison (Gentoo rule)
            string_rule = index and (a[0] == "0" or b[0] == "0")
            result = _cmp(a, b) if string_rule else _cmp(int(a), int(b))
            if result:
                return result
        return 0

    def _compare_letters(self, other: Self) -> int:
        if bool(self.letter) != bool(other.letter):
            return 1 if self.letter else -1
        return _cmp(self.letter, other.letter)

    def _compare_suffixes(self, other: Self) -> int:
        mine, theirs = self.suffixes, other.suffixes
        for index in range(max(len(mine), len(theirs))):
            a = mine[index] if index < len(mine) else _MISSING_SUFFIX
            b = theirs[index] if index < len(theirs) else _MISSING_SUFFIX
            if result := _cmp(a, b):
                return result
        return 0

    def __repr__(self) -> str:
        return f"ApkVersion({self.version!r})"
