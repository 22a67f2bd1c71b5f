"""The one rule for whether a vulnerability affects a version: the version's findings that name it.

Watch status (`portal.watches`) and the events a scan writes (`cve.watch.matched` / `resolved`) both ask
here, so they never disagree. A vulnerability is an alias group, so a CVE id finds a finding filed under
its GHSA or PYSEC id too. A suppression (a vendor statement, a tenant's triage: not yet imported) is the
one place such an input joins the rule: a finding it covers does not count.
"""

from collections.abc import Iterable
from typing import Protocol

from portal.scanning.findings import FoundVulnerability


class Suppression(Protocol):
    def suppresses(self, finding: FoundVulnerability) -> bool: ...


class _NothingSuppressed:
    def suppresses(self, finding: FoundVulnerability) -> bool:
        return False


NOTHING_SUPPRESSED: Suppression = _NothingSuppressed()


def affecting(
    findings: Iterable[FoundVulnerability], identifier: str, suppression: Suppression = NOTHING_SUPPRESSED
) -> list[FoundVulnerability]:
    """The findings by which the vulnerability known as `identifier` affects the version they belong to;
    empty when it does not affect it."""
    wanted = identifier.strip().upper()
    return [f for f in findings if f.names(wanted) and not suppression.suppresses(f)]
