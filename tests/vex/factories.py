"""The `portal vex` command line and hand-written VEX documents, for tests."""

import json
from pathlib import Path
from typing import Any

from portal.config import Settings
from tests.operator import operator_cli, run_async


async def vex(settings: Settings, *args: str, ok: bool = True) -> Any:
    """Runs `portal vex ARGS --json`; its JSON answer (or, when it fails, its output)."""
    output = await run_async(operator_cli(settings), "vex", *args, *(["--json"] if ok else []), ok=ok)
    return json.loads(output.strip().splitlines()[-1]) if ok else output


def openvex(
    statements: list[dict[str, Any]], *, document_id: str = "https://vendor.example/vex/1", **extra: Any
) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": document_id,
        "author": "Vendor Security",
        "timestamp": "2025-01-01T00:00:00Z",
        "version": 1,
        "statements": statements,
        **extra,
    }


def statement(
    vulnerability: str,
    product: str,
    *,
    status: str = "not_affected",
    justification: str | None = "vulnerable_code_not_in_execute_path",
    subcomponents: tuple[str, ...] = (),
    timestamp: str = "2025-01-01T00:00:00Z",
    aliases: tuple[str, ...] = (),
) -> dict[str, Any]:
    product_entry: dict[str, Any] = {"@id": product}
    if subcomponents:
        product_entry["subcomponents"] = [{"@id": s} for s in subcomponents]
    stated: dict[str, Any] = {
        "vulnerability": {"name": vulnerability, **({"aliases": list(aliases)} if aliases else {})},
        "products": [product_entry],
        "status": status,
        "timestamp": timestamp,
    }
    if justification and status == "not_affected":
        stated["justification"] = justification
    if status == "affected":
        stated["action_statement"] = "Update."
    return stated


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path
