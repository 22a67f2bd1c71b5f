"""Small typed builders of OSV records for the vulns tests."""

from typing import Any


def osv_record(
    advisory_id: str = "TEST-1",
    *,
    ecosystem: str = "PyPI",
    name: str = "demo",
    ranges: list[dict[str, Any]] | None = None,
    versions: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if ranges is not None:
        affected["ranges"] = ranges
    if versions is not None:
        affected["versions"] = versions
    record: dict[str, Any] = {
        "id": advisory_id,
        "modified": "2024-01-02T03:04:05.123456789Z",
        "aliases": [f"CVE-2024-{advisory_id[-1]}000"],
        "affected": [affected],
    }
    record.update(fields)
    return record


def ecosystem_range(*events: tuple[str, str], range_type: str = "ECOSYSTEM") -> dict[str, Any]:
    return {"type": range_type, "events": [{kind: value} for kind, value in events]}
