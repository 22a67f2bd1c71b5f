"""Hand-written OSV records and the files and zips they ship in, for tests."""

import json
import zipfile
from pathlib import Path
from typing import Any


def osv_record(
    advisory_id: str,
    package: str = "demo-lib",
    *,
    ecosystem: str = "PyPI",
    fixed: str | None = "1.2.0",
    aliases: tuple[str, ...] = (),
    modified: str = "2024-01-01T00:00:00Z",
    withdrawn: str | None = None,
    cvss_v3: str | None = None,
    summary: str = "A test advisory",
) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    record: dict[str, Any] = {
        "id": advisory_id,
        "modified": modified,
        "aliases": list(aliases),
        "summary": summary,
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }
    if withdrawn:
        record["withdrawn"] = withdrawn
    if cvss_v3:
        record["severity"] = [{"type": "CVSS_V3", "score": cvss_v3}]
    return record


def write_folder(folder: Path, *records: dict[str, Any], extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


def write_zip(path: Path, *records: dict[str, Any], extra: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return path
