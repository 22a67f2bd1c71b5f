"""Schemathesis with every check against the app's own OpenAPI: 0 failures.

The schemathesis command line runs every check (`--checks all`: no 5xx, answers as declared, schema-valid
data accepted, schema-violating data refused, the Allow header, ...) over every phase, against a real
server run as `portal serve` runs it, signed in as an admin of a populated tenant (the demo: images,
versions, scans, CVE watches; plus a feature request, a webhook and a delivery), so that generated
requests reach past the access checks and into real data. Routes added later join automatically. The
number of examples per operation is bounded and the seed fixed, so the run is short and repeatable.
"""

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.demo import run_demo
from portal.runtime import Runtime
from portal.tenants.repository import TenantRepository
from portal.users.models import Role
from portal.users.repository import UserRepository
from tests import services
from tests.conftest import make_settings
from tests.factories import OPERATOR
from tests.live_server import serve

EXAMPLES_PER_OPERATION = 15
SEED = 1


class LiveApi:
    def __init__(self, base_url: str, token: str, ids: dict[str, str]) -> None:
        self.base_url, self.token, self.ids = base_url, token, ids


async def _populate(runtime: Runtime) -> str:
    """The demo tenant (images, versions, scans, CVE watches) and a token of its admin."""
    await run_demo(runtime, OPERATOR)
    async with runtime.db.transaction() as session:
        tenant = await TenantRepository(session).by_slug("acme")
        assert tenant is not None
        admin = await UserRepository(session).by_email(tenant.id, "admin@acme.example")
        assert admin is not None
    return runtime.tokens.issue(admin.id, tenant.id, Role.ADMIN.value)


def _ids(base_url: str, token: str) -> dict[str, str]:
    """Real ids through the API itself, as a client would find them; a webhook and a delivery made so."""
    headers = {"X-Tenant": "acme", "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        image = client.get("/api/docker-images").json()["items"][0]
        detail = client.get(f"/api/docker-images/{image['id']}").json()
        version = detail["versions"][0]["id"]
        scan = client.get(f"/api/docker-images/{image['id']}/versions/{version}/scan-history").json()[
            "items"
        ][0]
        client.post("/api/feature-requests", json={"type": "feature", "title": "More", "description": "x"})
        hook = client.post(
            "/api/webhooks", json={"url": "https://hooks.example.com/portal", "events": ["scan.completed"]}
        ).json()
        delivery = client.post(f"/api/webhooks/{hook['id']}/test").json()
        expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        key = client.post("/api/api-keys", json={"name": "ci", "role": "viewer", "expiresAt": expires}).json()
    return {
        "key_id": key["id"],
        "image_id": image["id"],
        "version_id": version,
        "scan_id": scan["id"],
        "webhook_id": hook["id"],
        "delivery_id": delivery["id"],
    }


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    folder = tmp_path_factory.mktemp("schemathesis")
    url = services.sqlite_copy(services.sqlite_template(folder / ".."), folder)
    runtime = Runtime.build(make_settings(Path(folder), url), rate_limit_namespace=uuid.uuid4().hex)

    async def populate() -> str:
        token = await _populate(runtime)
        await runtime.db.dispose()  # the server's loop opens its own connections
        return token

    token = asyncio.run(populate())
    with serve(create_app(runtime=runtime)) as base_url:
        yield LiveApi(base_url, token, _ids(base_url, token))


def _config(ids: dict[str, str]) -> str:
    """Real ids for the operations no link of the document feeds, so their cases reach real objects.
    Reading, changing and deleting one webhook keep the ids schemathesis follows from its creation."""
    lines = ["[parameters]"]
    lines += [f'"path.{name}" = "{value}"' for name, value in ids.items() if name != "webhook_id"]
    for name in (
        "POST /api/webhooks/{webhook_id}/rotate-secret",
        "POST /api/webhooks/{webhook_id}/test",
        "GET /api/webhooks/{webhook_id}/deliveries",
        "POST /api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ):
        lines += ["", "[[operations]]", f'include-name = "{name}"']
        lines += ["[operations.parameters]", f'"path.webhook_id" = "{ids["webhook_id"]}"']
    # A key's expiry must lie between now and a year ahead: a rule relative to the clock, which a JSON
    # schema cannot state, so a schema-valid expiry (2000-01-01) is refused with 400 and a field detail.
    lines += ["", "[[operations]]", 'include-name = "POST /api/api-keys"']
    lines += ["[operations.checks.positive_data_acceptance]"]
    lines += ['expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]']
    return "\n".join(lines) + "\n"


def test_schemathesis_with_every_check_finds_nothing(live_api: LiveApi, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(live_api.ids))
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{live_api.base_url}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--header",
        "X-Tenant: acme",
        "--header",
        f"Authorization: Bearer {live_api.token}",
        "--report",
        "ndjson",
        "--report-dir",
        str(tmp_path),
    ]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout[-20000:] + ran.stderr[-5000:]
    tested = [
        json.loads(line)
        for report in tmp_path.glob("*.ndjson")
        for line in report.read_text().splitlines()
        if '"ScenarioFinished"' in line
    ]
    assert tested, "schemathesis tested nothing"
