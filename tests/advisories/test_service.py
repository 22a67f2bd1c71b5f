from portal.advisories.service import AdvisoryService
from portal.runtime import Runtime
from tests.advisories.factories import osv_record


async def test_records_already_read_import_like_files_and_a_second_import_changes_nothing(
    runtime: Runtime,
) -> None:
    records = [
        ("bundled:GOOD-1", osv_record("GOOD-1", aliases=("CVE-2024-0001",))),
        ("bundled:BAD-1", {"id": "BAD-1", "modified": "yesterday"}),
    ]
    async with runtime.db.transaction() as session:
        first = await AdvisoryService(session).import_records(records)
    async with runtime.db.transaction() as session:
        second = await AdvisoryService(session).import_records(records)
        feed = await AdvisoryService(session).feed_state()

    assert (first.imported, first.failed) == (1, 1)
    assert first.failures[0].source == "bundled:BAD-1"
    assert (second.imported, second.updated, second.unchanged) == (0, 0, 1)
    assert feed.count == 1
