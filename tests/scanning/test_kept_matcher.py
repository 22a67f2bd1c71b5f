"""The worker's kept matcher, brought up to date by each import, finds what a matcher made anew finds: on
the real PyPI and Go feeds, through GHSA regrouping them, a changed and a withdrawn record, and KEV. And the
finding documents it writes from blocks compressed a component at a time read back whole."""

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from portal.advisories.service import AdvisoryService
from portal.config import Settings
from portal.runtime import Runtime
from portal.scanning.findings import deflate_block, zlib_document
from portal.scanning.matching import Matcher
from portal.scanning.models import Scan
from portal.scanning.service import ScanService
from portal.scanning.tasks import rescan
from tests.advisories.factories import write_folder
from tests.catalog.factories import publish
from tests.operator import operator_cli, run_async
from tests.scanning.factories import import_advisories
from tests.scanning.test_intel import run_worker
from tests.shared_fixtures import fixtures_dir


async def _latest(runtime: Runtime, version_ids: list[str]) -> dict[str, Scan]:
    async with runtime.db.transaction() as session:
        return await ScanService(session).latest_scans(version_ids)


async def _kept(runtime: Runtime) -> Matcher:
    async with runtime.db.transaction() as session:
        return await runtime.kept_matcher.current(AdvisoryService(session))


async def _same_as_a_new_matcher(runtime: Runtime, version_ids: list[str]) -> dict[str, Scan]:
    """Rescans every version with a matcher of its own and checks it finds what the kept one found."""
    kept = await _latest(runtime, version_ids)
    await rescan(runtime.db, runtime.clock)
    fresh = await _latest(runtime, version_ids)
    for version_id in version_ids:
        assert fresh[version_id].id != kept[version_id].id
        assert fresh[version_id].findings_digest == kept[version_id].findings_digest, version_id
    return fresh


def _record(feed: Path, advisory_id: str) -> dict[str, Any]:
    with zipfile.ZipFile(feed) as archive:
        record: dict[str, Any] = json.loads(archive.read(f"{advisory_id}.json"))
        return record


async def test_the_kept_matcher_finds_what_a_new_one_finds_after_each_import(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    osv = fixtures_dir() / "osv"
    sboms = fixtures_dir() / "sboms"
    versions = [
        (await publish(runtime, name, sbom=(sboms / sbom).read_bytes())).version.id
        for name, sbom in (
            ("python-app", "python-app-syft-1.18.cdx.json"),
            ("kubectl", "kubectl-1.30-syft-1.18.cdx.json"),
        )
    ]
    await import_advisories(settings, osv / "pypi-pysec.zip", osv / "go-vulndb.zip")
    await run_worker(runtime)
    first = await _same_as_a_new_matcher(runtime, versions)
    kept = await _kept(runtime)
    loaded = kept.loaded_packages

    # GHSA records join PYSEC's and Go's alias groups: a finding's id, aliases and rating change
    ghsa = await import_advisories(settings, osv / "ghsa-subset.zip")
    assert ghsa["rescansQueued"] == 2
    await run_worker(runtime)
    assert await _kept(runtime) is kept and kept.loaded_packages == loaded  # updated, not made again
    grouped = await _same_as_a_new_matcher(runtime, versions)
    assert grouped[versions[0]].findings_digest != first[versions[0]].findings_digest

    # Pillow's record now says 8.0.0 fixed it (python-app has 8.4.0); urllib3's is withdrawn (GHSA
    # records of both bugs still match: their findings lose a source)
    pillow = _record(osv / "pypi-pysec.zip", "PYSEC-2022-10")
    pillow["modified"] = "2099-01-01T00:00:00Z"
    for affected in pillow["affected"]:
        affected.pop("versions", None)
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "8.0.0"}]}]
    urllib3 = _record(osv / "pypi-pysec.zip", "PYSEC-2021-108")
    urllib3["modified"] = "2099-01-01T00:00:00Z"
    urllib3["withdrawn"] = "2099-01-01T00:00:00Z"
    changed = await import_advisories(settings, write_folder(tmp_path / "changed", pillow, urllib3))
    assert (changed["updated"], changed["withdrawn"], changed["rescansQueued"]) == (2, 1, 1)
    await run_worker(runtime)
    assert await _kept(runtime) is kept
    after = await _same_as_a_new_matcher(runtime, versions)
    assert after[versions[0]].findings_digest != grouped[versions[0]].findings_digest

    # KEV counts in the summary follow the catalog from the next scan on, without an advisory change
    await run_async(
        operator_cli(settings),
        "intel",
        "import",
        "kev",
        str(fixtures_dir() / "intel" / "known_exploited_vulnerabilities.json"),
    )
    report = await rescan(runtime.db, runtime.clock, kept=runtime.kept_matcher)
    with_kev = await _latest(runtime, versions)
    async with runtime.db.transaction() as session:
        counts = await ScanService(session).kev_counts(list(with_kev.values()))
    assert {v.version_id: v.summary["kev"] for v in report.versions} == {
        version_id: counts[scan.id] for version_id, scan in with_kev.items()
    }
    assert sum(counts.values()) > 0
    assert await _kept(runtime) is kept
    await _same_as_a_new_matcher(runtime, versions)


def test_a_document_of_blocks_compressed_a_component_at_a_time_reads_back_whole() -> None:
    parts = [b'["CVE-2021-1",["CVE-2021-1"]]', b'["A"]\n["B"]', '["é"]'.encode()]
    for count in range(len(parts) + 1):
        text = b"\n".join(parts[:count])
        document = zlib_document([deflate_block(part) for part in parts[:count]], text)
        assert zlib.decompress(document) == text
