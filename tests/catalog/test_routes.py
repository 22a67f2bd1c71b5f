import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from portal.app import create_app
from portal.runtime import Runtime
from portal.sbom import parse_sbom
from portal.sbom.image import image_purl
from portal.sbom.model import ImageSubject
from portal.users.models import Role
from tests.catalog.factories import digest_of, grant, publish, revoke, small_sbom, unpublish
from tests.conftest import client_for
from tests.factories import Caller, make_caller
from tests.sbom.factories import cyclonedx_problems, identities, rendered_identities, spdx_problems
from tests.shared_fixtures import fixtures_dir

CDX_TYPE = "application/vnd.cyclonedx+json; version=1.5"
SPDX_TYPE = "application/spdx+json"


def _sbom_url(image_id: str, version_id: str, kind: str) -> str:
    return f"/api/docker-images/{image_id}/versions/{version_id}/sbom/{kind}"


async def test_the_list_shows_only_entitled_images_sorted_by_name(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    for name in ("redis", "nginx", "python"):
        await publish(runtime, name, description=f"Hardened {name}")
    await grant(runtime, caller.tenant, "python")
    await grant(runtime, caller.tenant, "nginx")
    newest = await publish(runtime, "python", tags=("3.13",), hardening=("fips", "stig"))

    response = await client.get("/api/docker-images", headers=caller.headers)

    assert response.status_code == 200
    body = response.json()
    assert [item["name"] for item in body["items"]] == ["nginx", "python"]
    assert body["nextCursor"] is None
    python = body["items"][1]
    assert python == {
        "id": newest.image.id,
        "name": "python",
        "repository": "registry.example.com/python",
        "description": "Hardened python",
        "hardeningTags": ["fips", "stig"],
        "latestVersion": {
            "id": newest.version.id,
            "tags": ["3.13"],
            "digest": newest.version.digest,
            "publishedAt": python["latestVersion"]["publishedAt"],
        },
        "updatedAt": python["updatedAt"],
    }
    assert python["updatedAt"].endswith("Z") and python["latestVersion"]["publishedAt"].endswith("Z")


async def test_the_list_pages_by_cursor_and_filters_by_name_and_hardening_tag(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    names = ["alpine", "busybox", "go", "node", "nodejs-slim"]
    for name in names:
        await publish(runtime, name, hardening=("distroless",) if name.startswith("node") else ("fips",))
        await grant(runtime, caller.tenant, name)
    # Only the latest version's hardening tags count.
    await publish(runtime, "go", hardening=("stig",))

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/docker-images", params=params, headers=caller.headers)).json()
        assert len(page["items"]) <= 2
        seen += [item["name"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == names

    async def names_for(**params: str) -> list[str]:
        response = await client.get("/api/docker-images", params=params, headers=caller.headers)
        assert response.status_code == 200
        return [item["name"] for item in response.json()["items"]]

    assert await names_for(q="NODE") == ["node", "nodejs-slim"]
    assert await names_for(q="%") == []
    assert await names_for(hardeningTag="fips") == ["alpine", "busybox"]
    assert await names_for(hardeningTag="stig") == ["go"]
    assert await names_for(hardeningTag="distroless", q="slim") == ["nodejs-slim"]

    bad = await client.get("/api/docker-images", params={"cursor": "bm9wZQ"}, headers=caller.headers)
    assert (bad.status_code, bad.json()["error"]) == (400, "VALIDATION_ERROR")
    too_many = await client.get("/api/docker-images", params={"limit": 201}, headers=caller.headers)
    assert too_many.json()["details"][0]["path"] == ["query", "limit"]


async def test_the_detail_lists_published_versions_newest_first(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    first = await publish(runtime, digest=digest_of("v1"), tags=("3.11",), architectures=("amd64", "arm64"))
    gone = await publish(runtime, digest=digest_of("v2"), tags=("3.12-rc",))
    last = await publish(runtime, digest=digest_of("v3"), tags=("3.12", "latest"), hardening=("fips",))
    await unpublish(runtime, "python", gone.version.digest)
    await grant(runtime, caller.tenant, "python")

    response = await client.get(f"/api/docker-images/{first.image.id}", headers=caller.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["latestVersion"]["id"] == last.version.id
    assert [v["id"] for v in body["versions"]] == [last.version.id, first.version.id]
    assert body["versions"][1] == {
        "id": first.version.id,
        "tags": ["3.11"],
        "digest": digest_of("v1"),
        "architectures": ["amd64", "arm64"],
        "publishedAt": body["versions"][1]["publishedAt"],
        "hardeningTags": ["non-root"],
        "componentCount": 2,
        "latestScan": None,
    }


async def test_what_a_tenant_is_not_entitled_to_does_not_exist(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    stranger = await make_caller(runtime, client)
    mine = await publish(runtime, "python")
    other = await publish(runtime, "nginx")
    await grant(runtime, caller.tenant, "python")
    await grant(runtime, stranger.tenant, "nginx")

    urls = [
        f"/api/docker-images/{other.image.id}",
        _sbom_url(other.image.id, other.version.id, "spdx"),
        _sbom_url(mine.image.id, other.version.id, "cyclonedx"),  # another image's version
        f"/api/docker-images/{mine.image.id}-x",
        "/api/docker-images/not-a-uuid",
        _sbom_url("not-a-uuid", "nope", "spdx"),
        _sbom_url(mine.image.id, mine.version.id.upper(), "spdx"),
    ]
    for url in urls:
        response = await client.get(url, headers=caller.headers)
        assert (url, response.status_code, response.json()["error"]) == (url, 404, "NOT_FOUND")
    listed = (await client.get("/api/docker-images", headers=stranger.headers)).json()["items"]
    assert [item["name"] for item in listed] == ["nginx"]

    sbom = _sbom_url(mine.image.id, mine.version.id, "spdx")
    assert (await client.get(sbom, headers=caller.headers)).status_code == 200
    await revoke(runtime, caller.tenant, "python")
    assert (await client.get(sbom, headers=caller.headers)).status_code == 404
    assert (
        await client.get(f"/api/docker-images/{mine.image.id}", headers=caller.headers)
    ).status_code == 404
    assert (await client.get("/api/docker-images", headers=caller.headers)).json()["items"] == []


async def test_an_unpublished_version_disappears(runtime: Runtime, client: httpx.AsyncClient) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime)
    await grant(runtime, caller.tenant, "python")
    url = _sbom_url(published.image.id, published.version.id, "cyclonedx")
    assert (await client.get(url, headers=caller.headers)).status_code == 200

    await unpublish(runtime, "python", published.version.digest)

    assert (await client.get(url, headers=caller.headers)).status_code == 404
    assert (await client.get("/api/docker-images", headers=caller.headers)).json()["items"] == []


async def _download(
    client: httpx.AsyncClient, caller: Caller, image_id: str, version_id: str, kind: str
) -> bytes:
    response = await client.get(_sbom_url(image_id, version_id, kind), headers=caller.headers)
    assert response.status_code == 200, response.text
    return response.content


async def test_downloads_carry_type_name_etag_and_answer_304(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    published = await publish(runtime, "library/python", tags=("3.12", "latest"))
    untagged = await publish(runtime, "library/python", tags=("3.12-debug",))
    await grant(runtime, caller.tenant, "library/python")
    image_id, version_id = published.image.id, published.version.id

    for kind, media_type, extension in (
        ("spdx", SPDX_TYPE, "spdx.json"),
        ("cyclonedx", CDX_TYPE, "cdx.json"),
    ):
        url = _sbom_url(image_id, version_id, kind)
        response = await client.get(url, headers=caller.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        assert (
            response.headers["content-disposition"]
            == f'attachment; filename="library-python-3.12.{extension}"'
        )
        assert response.headers["cache-control"] == "private"
        etag = response.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
        assert json.loads(response.content)

        for if_none_match in (etag, f'"nope", {etag}', "*", f"W/{etag}"):
            cached = await client.get(url, headers={**caller.headers, "If-None-Match": if_none_match})
            assert (if_none_match, cached.status_code, cached.content) == (if_none_match, 304, b"")
            assert cached.headers["etag"] == etag
        stale = await client.get(url, headers={**caller.headers, "If-None-Match": '"stale"'})
        assert (stale.status_code, stale.content) == (200, response.content)

    other = await client.get(_sbom_url(image_id, untagged.version.id, "spdx"), headers=caller.headers)
    assert (
        other.headers["content-disposition"] == 'attachment; filename="library-python-3.12-debug.spdx.json"'
    )


async def test_the_same_version_always_yields_the_same_bytes(
    runtime: Runtime, client: httpx.AsyncClient, app: FastAPI
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime)
    await grant(runtime, caller.tenant, "python")
    ids = (published.image.id, published.version.id)

    first = {kind: await _download(client, caller, *ids, kind) for kind in ("spdx", "cyclonedx")}
    again = {kind: await _download(client, caller, *ids, kind) for kind in ("spdx", "cyclonedx")}
    fresh_runtime = Runtime.build(runtime.settings)
    try:
        async with client_for(create_app(runtime=fresh_runtime)) as fresh_client:
            fresh = {
                kind: await _download(fresh_client, caller, *ids, kind) for kind in ("spdx", "cyclonedx")
            }
            etag = (await fresh_client.get(_sbom_url(*ids, "spdx"), headers=caller.headers)).headers["etag"]
    finally:
        await fresh_runtime.close()

    assert first == again == fresh
    original = await client.get(_sbom_url(*ids, "spdx"), headers=caller.headers)
    assert original.headers["etag"] == etag


def _fixtures() -> list[Path]:
    return sorted((fixtures_dir() / "sboms").glob("*.json"))


async def test_served_documents_of_every_fixture_are_valid_and_list_the_input_components(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client)
    for index, path in enumerate(_fixtures()):
        name = f"fixture-{index}"
        data = path.read_bytes()
        published = await publish(runtime, name, sbom=data, digest=digest_of(path.name))
        await grant(runtime, caller.tenant, name)
        ids = (published.image.id, published.version.id)
        subject = ImageSubject(
            name=name,
            repository=published.image.repository,
            digest=published.version.digest,
            tags=(),
            architectures=(),
            published_at=published.version.published_at,
            version_id=published.version.id,
        )
        expected = identities(parse_sbom(data))

        cyclonedx = await _download(client, caller, *ids, "cyclonedx")
        spdx = await _download(client, caller, *ids, "spdx")

        assert (path.name, cyclonedx_problems(cyclonedx)) == (path.name, [])
        assert (path.name, spdx_problems(spdx)) == (path.name, [])
        assert rendered_identities(cyclonedx, image_purl(subject)) == expected
        assert rendered_identities(spdx, image_purl(subject)) == expected
        assert json.loads(spdx)["creationInfo"]["created"].endswith("Z")


@pytest.mark.parametrize("kind", ["spdx", "cyclonedx"])
async def test_documents_describe_the_image_as_the_root(
    runtime: Runtime, client: httpx.AsyncClient, kind: str
) -> None:
    caller = await make_caller(runtime, client)
    published = await publish(runtime, sbom=small_sbom(("flask", "3.0.0")))
    await grant(runtime, caller.tenant, "python")

    document = json.loads(await _download(client, caller, published.image.id, published.version.id, kind))

    purl_fragment = "pkg:oci/python@sha256%3A" + published.version.digest.removeprefix("sha256:")
    assert purl_fragment in json.dumps(document)
