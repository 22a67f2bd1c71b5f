"""Which statement, or which analysis, speaks for each finding of a version: the rule, apart from the
database.

A vendor statement applies to a finding when
- its vulnerability (its name or any alias it gives) is one of the finding's ids (the alias group);
- its product names the image (any version, or this one by digest), or the finding's component (any
  version, or this one), or a package of the version whose subcomponent is the finding's component.
Of the statements that apply, the one stated last wins (then the one recorded last), whichever product
it names: a statement about the image and one about the package answer the same question. A revoked
statement applies to nothing.

A tenant's analysis of the finding's vulnerability in the version, while it has not expired, speaks for
that tenant over the vendor's statements: it is the tenant's own decision about its own deployment.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from portal.vex.products import same_version

Source = Literal["vendor", "tenant"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What leaves the open counts: not a vulnerability of this version (any more).
SUPPRESSING = frozenset({"not_affected", "fixed", "false_positive"})
# CycloneDX analysis states as the finding's status.
ANALYSIS_STATUS = {
    "exploitable": "affected",
    "in_triage": "under_investigation",
    "false_positive": "false_positive",
    "not_affected": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    justification: str | None
    statement: str | None
    action: str | None
    source: Source
    timestamp: datetime
    # the vendor statement's id, or the tenant's analysis state
    statement_id: str | None = None
    analysis_state: str | None = None

    @property
    def suppresses(self) -> bool:
        return self.status in SUPPRESSING


@dataclass(frozen=True, slots=True)
class Subject:
    """A finding as VEX matches it: every id of its vulnerability (upper case), its component."""

    ids: frozenset[str]
    component_key: str | None
    component_version: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (statement, product row) that may apply to a version's findings."""

    statement_id: str
    vulnerability_ids: frozenset[str]
    status: str
    justification: str | None
    statement: str | None
    action: str | None
    # microseconds since the epoch
    stated_us: int
    created_us: int
    image_name: str | None
    image_digest: str | None
    container_key: str | None
    container_version: str | None
    component_key: str | None
    component_version: str | None

    def verdict(self) -> Verdict:
        return Verdict(
            self.status,
            self.justification,
            self.statement,
            self.action,
            "vendor",
            EPOCH + timedelta(microseconds=self.stated_us),
            statement_id=self.statement_id,
        )

    @property
    def order(self) -> tuple[int, int, str]:
        return (self.stated_us, self.created_us, self.statement_id)


@dataclass(frozen=True, slots=True)
class Analysis:
    vulnerability_id: str
    state: str
    justification: str | None
    detail: str | None
    response: tuple[str, ...]
    recorded_at: datetime

    def verdict(self) -> Verdict:
        return Verdict(
            ANALYSIS_STATUS[self.state],
            self.justification,
            self.detail,
            ", ".join(self.response) or None,
            "tenant",
            self.recorded_at,
            analysis_state=self.state,
        )


@dataclass(frozen=True)
class VersionFacts:
    """What a product is compared with: the image's names, the version's digest, and (asked only when a
    statement names subcomponents of a package) whether the version holds a package."""

    image_names: tuple[str, ...]
    digest: str
    holds: Callable[[str, str | None], bool]


def decide(
    subjects: Sequence[Subject],
    candidates: Iterable[Candidate],
    version: VersionFacts,
    analyses: Iterable[Analysis] = (),
) -> list[Verdict | None]:
    """Each subject's verdict, in order; None where nothing speaks for it."""
    by_component: dict[str | None, list[Candidate]] = {}
    for candidate in candidates:
        by_component.setdefault(candidate.component_key, []).append(candidate)
    whole_image = [c for c in by_component.get(None, []) if _names_image(c, version)]
    by_vulnerability = {analysis.vulnerability_id: analysis for analysis in analyses}
    # one Verdict per statement or analysis, however many findings it speaks for
    made: dict[str, Verdict] = {}
    verdicts: list[Verdict | None] = []
    for subject in subjects:
        if by_vulnerability:
            own = next((by_vulnerability[i] for i in subject.ids if i in by_vulnerability), None)
            if own is not None:
                key = "analysis " + own.vulnerability_id
                if key not in made:
                    made[key] = own.verdict()
                verdicts.append(made[key])
                continue
        # most findings have no statement: they cost one dictionary lookup
        possible = by_component.get(subject.component_key, ())
        if not possible and not whole_image:
            verdicts.append(None)
            continue
        best: Candidate | None = None
        for candidates_of in (possible, whole_image):
            for candidate in candidates_of:
                if best is not None and candidate.order <= best.order:
                    continue
                if _applies(candidate, subject, version):
                    best = candidate
        if best is None:
            verdicts.append(None)
            continue
        if best.statement_id not in made:
            made[best.statement_id] = best.verdict()
        verdicts.append(made[best.statement_id])
    return verdicts


def _names_image(candidate: Candidate, version: VersionFacts) -> bool:
    return candidate.image_name in version.image_names and (
        candidate.image_digest is None or candidate.image_digest == version.digest
    )


def _applies(candidate: Candidate, subject: Subject, version: VersionFacts) -> bool:
    if candidate.vulnerability_ids.isdisjoint(subject.ids):
        return False
    if candidate.component_key is not None and not (
        candidate.component_key == subject.component_key
        and same_version(candidate.component_version, subject.component_version)
    ):
        return False
    if candidate.image_name is not None:
        return _names_image(candidate, version)
    if candidate.container_key is not None:
        return version.holds(candidate.container_key, candidate.container_version)
    return True
