"""What every ecosystem's version key has in common."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Self


class InvalidVersion(ValueError):
    """A version string that the ecosystem's ordering cannot place."""

    def __init__(self, ecosystem: str, version: str, reason: str = "") -> None:
        self.ecosystem = ecosystem
        self.version = version
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"invalid {ecosystem} version {version!r}{detail}")


class SortKey(Protocol):
    """A key that orders versions of one ordering family totally with < and ==."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __le__(self, other: Any, /) -> bool: ...

    def __gt__(self, other: Any, /) -> bool: ...

    def __ge__(self, other: Any, /) -> bool: ...


class ComparedKey:
    """Base for keys whose order is an algorithm (apk, rpm) rather than a tuple.

    Equal keys are not necessarily equal strings ("1.01" == "1.1" for rpm), so a key is not hashable.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # each subclass defines it; no runtime base method to fall back on by mistake

        def compare(self, other: Self) -> int: ...

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.compare(other) < 0

    def __le__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.compare(other) <= 0

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.compare(other) > 0

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.compare(other) >= 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.compare(other) == 0

    __hash__ = None  # type: ignore[assignment]


def is_ascii_digit(char: str) -> bool:
    # str.isdigit() accepts other scripts' digits, which no package manager treats as digits
    return "0" <= char <= "9"


def is_ascii_letter(char: str) -> bool:
    return "a" <= char <= "z" or "A" <= char <= "Z"
