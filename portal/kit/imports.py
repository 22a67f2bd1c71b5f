"""What every import of a feed reports: how many entries were new, changed or the same, and which were
skipped and why (the `--json` object of `portal advisories import` and `portal intel import`)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImportFailure:
    source: str
    reason: str


@dataclass
class ImportCounts:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[ImportFailure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "failures": [{"source": f.source, "reason": f.reason} for f in self.failures],
        }
