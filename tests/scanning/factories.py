"""Scanning through the real command line and reading the outbox, for tests."""

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from portal.config import Settings
from portal.events import OutboxEvent
from portal.kit.tenancy import scoped
from portal.runtime import Runtime
from tests.operator import operator_cli, run_async


async def import_advisories(settings: Settings, *paths: Path) -> dict[str, Any]:
    output = await run_async(operator_cli(settings), "advisories", "import", *map(str, paths), "--json")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


async def scan(settings: Settings, *args: str) -> dict[str, Any]:
    output = await run_async(operator_cli(settings), "scan", "--json", *args)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


async def events(runtime: Runtime, tenant_id: str, event_type: str) -> list[dict[str, Any]]:
    async with runtime.db.transaction() as session:
        statement = (
            scoped(select(OutboxEvent), OutboxEvent, tenant_id)
            .where(OutboxEvent.event_type == event_type)
            .order_by(OutboxEvent.created_at, OutboxEvent.id)
        )
        return [event.data for event in (await session.execute(statement)).scalars()]
