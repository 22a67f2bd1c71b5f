"""The container image and the compose file cannot be built here; what can be checked is that they say
what docs/deploy.md says: the services, ports and settings, and the conventions of the image."""

from typing import Any

import yaml

from tests.shared_fixtures import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
SHARED = ("PORTAL_DATABASE_URL", "PORTAL_REDIS_URL", "PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEY")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_the_compose_file_has_the_fleet_the_docs_describe() -> None:
    services = _compose()["services"]
    docs = (REPO_ROOT / "docs" / "deploy.md").read_text()

    assert set(services) == {"postgres", "redis", "api-1", "api-2", "worker", "proxy"}
    for name in services:
        assert f"`{name}`" in docs, name
    for api in ("api-1", "api-2"):
        assert services[api]["command"][:2] == ["portal", "serve"]
        assert services[api]["environment"]["PORTAL_RUN_WORKER"] == "false"
    assert services["worker"]["command"] == ["portal", "worker"]
    assert services["proxy"]["ports"] == ["8080:80"]
    assert "8080" in docs


def test_every_portal_process_shares_the_settings_a_fleet_needs_and_trusts_only_the_proxy() -> None:
    services = _compose()["services"]
    proxy_address = services["proxy"]["networks"]["portal"]["ipv4_address"]
    for name in ("api-1", "api-2", "worker"):
        environment = services[name]["environment"]
        for setting in SHARED:
            assert environment[setting], (name, setting)
        assert environment["PORTAL_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["PORTAL_TRUSTED_PROXIES"] == proxy_address
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "server api-1:8000;" in nginx and "server api-2:8000;" in nginx


def test_the_image_is_multi_stage_non_root_and_has_no_compiler_in_its_last_stage() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    stages = [part for part in dockerfile.split("\nFROM ")[1:]]
    assert len(stages) >= 2
    final = stages[-1]
    assert "build-essential" not in final and "gcc" not in final
    assert "COPY --from=build" in final
    user = [line.split()[1] for line in final.splitlines() if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    assert "uv sync --locked" in dockerfile  # exactly what uv.lock pins
