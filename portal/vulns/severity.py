"""An advisory's severity, computed from what the record states and never guessed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

Severity = Literal["critical", "high", "medium", "low", "unknown"]

SEVERITY_ORDER: Final[tuple[Severity, ...]] = ("critical", "high", "medium", "low", "unknown")

# Words the feeds use in database_specific / ecosystem_specific: GHSA (MODERATE), Ubuntu and Debian
# (negligible, unimportant), Red Hat (important). CVSS "None" (base score 0.0) is the lowest rating.
_WORDS: Final[Mapping[str, Severity]] = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
    "unimportant": "low",
    "none": "low",
}

# CVSS v3 first: it is what NVD, GHSA and most scanners report, so customers can compare numbers
_VECTOR_PREFERENCE: Final = ("CVSS_V3", "CVSS_V4")


@dataclass(frozen=True, slots=True)
class SeverityRating:
    severity: Severity
    cvss_score: float | None = None
    cvss_vector: str | None = None

    @property
    def cvss_version(self) -> str | None:
        """ "3.1" of "CVSS:3.1/AV:N/...", "4.0" of a v4 vector."""
        if self.cvss_vector is None or not self.cvss_vector.startswith("CVSS:"):
            return None
        return self.cvss_vector[5:].split("/", 1)[0] or None


UNKNOWN = SeverityRating("unknown")


def rate_vector(vector: str) -> SeverityRating | None:
    """A CVSS v3.x or v4.0 vector's rating, or None when it cannot be read."""
    return _score_vector("CVSS_V4" if vector.startswith("CVSS:4") else "CVSS_V3", vector)


def severity_from_word(word: object) -> Severity:
    if not isinstance(word, str):
        return "unknown"
    return _WORDS.get(word.strip().lower(), "unknown")


def _score_vector(kind: str, vector: str) -> SeverityRating | None:
    from cvss import CVSS3, CVSS4, CVSSError  # when first needed: reading a severity does not score one

    try:
        if kind == "CVSS_V3":
            cvss3 = CVSS3(vector)
            score, rating = cvss3.base_score, cvss3.severities()[0]
        else:
            cvss4 = CVSS4(vector)
            score, rating = cvss4.base_score, cvss4.severity
    except (CVSSError, ValueError, KeyError, IndexError):
        # an unreadable vector is no evidence; the next source may still be
        return None
    if isinstance(score, Decimal):
        score = float(score)
    return SeverityRating(severity_from_word(rating), float(score), vector)


def rate_severity(
    severity_entries: Iterable[Mapping[str, Any]],
    database_specific: Mapping[str, Any] | None,
    ecosystem_specific: Iterable[Mapping[str, Any] | None],
) -> SeverityRating:
    """The record's CVSS vector (v3, else v4), else the feed's own severity word, else unknown."""
    entries = [entry for entry in severity_entries if isinstance(entry, Mapping)]
    for kind in _VECTOR_PREFERENCE:
        for entry in entries:
            score = entry.get("score")
            if entry.get("type") == kind and isinstance(score, str):
                rating = _score_vector(kind, score)
                if rating is not None and rating.severity != "unknown":
                    return rating
    words: list[Severity] = []
    if database_specific:
        words.append(severity_from_word(database_specific.get("severity")))
    for specific in ecosystem_specific:
        if specific:
            words.append(severity_from_word(specific.get("severity")))
    known = [word for word in words if word != "unknown"]
    if known:
        # several affected packages may rate differently: report the worst stated one
        return SeverityRating(min(known, key=SEVERITY_ORDER.index))
    return UNKNOWN
