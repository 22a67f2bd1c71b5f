"""rpm version ordering: `[epoch:]version[-release]` compared with rpmvercmp.

Written here because univers' `RpmVersion` rejects versions with a non-numeric text before a colon
(`a:1`, modular `...rpm-nginx:1` versions) and orders `1` and `1-` as equal.
"""

from __future__ import annotations

from typing import Self

from portal.vulns.versions.base import ComparedKey, InvalidVersion, is_ascii_digit, is_ascii_letter


def _is_separator(char: str) -> bool:
    return not (is_ascii_digit(char) or is_ascii_letter(char) or char in "~^")


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison, including `~` (sorts before anything) and `^` (after the base)."""
    if a == b:
        return 0
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a or j < len_b:
        while i < len_a and _is_separator(a[i]):
            i += 1
        while j < len_b and _is_separator(b[j]):
            j += 1
        char_a = a[i] if i < len_a else ""
        char_b = b[j] if j < len_b else ""
        if char_a == "~" or char_b == "~":
            if char_a != "~":
                return 1
            if char_b != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if char_a == "^" or char_b == "^":
            if not char_a:
                return -1
            if not char_b:
                return 1
            if char_a != "^":
                return 1
            if char_b != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not (char_a and char_b):
            break
        numeric = is_ascii_digit(char_a)
        same_kind = is_ascii_digit if numeric else is_ascii_letter
        end_a, end_b = i, j
        while end_a < len_a and same_kind(a[end_a]):
            end_a += 1
        while end_b < len_b and same_kind(b[end_b]):
            end_b += 1
        segment_a, segment_b = a[i:end_a], b[j:end_b]
        i, j = end_a, end_b
        if not segment_b:
            # a number against letters: numbers are newer
            return 1 if numeric else -1
        if numeric:
            segment_a = segment_a.lstrip("0")
            segment_b = segment_b.lstrip("0")
            if len(segment_a) != len(segment_b):
                return 1 if len(segment_a) > len(segment_b) else -1
        if segment_a != segment_b:
            return 1 if segment_a > segment_b else -1
    if i >= len_a and j >= len_b:
        return 0
    # whichever still has characters left wins
    return -1 if i >= len_a else 1


class RpmVersion(ComparedKey):
    __slots__ = ("epoch", "release", "text", "version")

    def __init__(self, text: str) -> None:
        if not text:
            raise InvalidVersion("rpm", text, "empty")
        self.text = text
        # like rpm's parseEVR: an epoch is a run of digits before a colon; the release follows the last "-"
        digits = 0
        while digits < len(text) and is_ascii_digit(text[digits]):
            digits += 1
        self.epoch = 0
        rest = text
        if digits < len(text) and text[digits] == ":":
            self.epoch = int(text[:digits] or 0)
            rest = text[digits + 1 :]
        version, dash, release = rest.rpartition("-")
        if dash:
            self.version: str = version
            self.release: str | None = release
        else:
            self.version, self.release = rest, None

    def compare(self, other: Self) -> int:
        if self.epoch != other.epoch:
            return 1 if self.epoch > other.epoch else -1
        if result := rpmvercmp(self.version, other.version):
            return result
        if self.release is None or other.release is None:
            # a version without release sorts before the same version with one (even an empty "1-")
            return (self.release is not None) - (other.release is not None)
        return rpmvercmp(self.release, other.release)

    def __repr__(self) -> str:
        return f"RpmVersion({self.text!r})"
