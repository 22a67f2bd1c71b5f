"""A tag names one version of an image at a time; a repository change is asked for; an unpublished
version comes back with `republish`. Through the service, the outbox and the tenant's API."""

import httpx
import pytest
from sqlalchemy import select

from portal.catalog import Image, ImageVersion, Published, PublishingService, PublishRequest
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.events import OutboxEvent
from portal.jobs import Job
from portal.kit.tenancy import scoped
from portal.runtime import Runtime
from portal.users.models import Role
from tests.catalog.factories import digest_of, grant, publish, small_sbom, unpublish
from tests.factories import OPERATOR, make_caller, make_tenant


async def _tags(runtime: Runtime) -> dict[str, list[str]]:
    """digest -> tags, for every version."""
    async with runtime.db.sessions() as session:
        versions = (await session.execute(select(ImageVersion))).scalars()
        return {version.digest: version.tags for version in versions}


async def _events(runtime: Runtime, tenant_id: str) -> list[dict[str, object]]:
    async with runtime.db.sessions() as session:
        statement = scoped(select(OutboxEvent), OutboxEvent, tenant_id).order_by(OutboxEvent.created_at)
        return [event.data for event in (await session.execute(statement)).scalars()]


async def _republish(runtime: Runtime, digest: str, tags: tuple[str, ...] | None = None) -> Published:
    async with runtime.db.transaction() as session:
        return await PublishingService(session, runtime.clock).republish(OPERATOR, "python", digest, tags)


async def test_publishing_a_tag_again_moves_it_and_says_so(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    old = await publish(runtime, digest=digest_of("1.0"), tags=("1.0", "latest"))
    await grant(runtime, caller.tenant, "python")

    new = await publish(runtime, digest=digest_of("2.1"), tags=("2.1", "latest"))

    assert [(m.tag, m.from_version.id) for m in new.moved_tags] == [("latest", old.version.id)]
    assert await _tags(runtime) == {digest_of("1.0"): ["1.0"], digest_of("2.1"): ["2.1", "latest"]}
    [event] = await _events(runtime, caller.tenant.id)
    assert event["tags"] == ["2.1", "latest"] and event["republished"] is False
    assert event["movedTags"] == [
        {"tag": "latest", "fromVersionId": old.version.id, "fromDigest": digest_of("1.0")}
    ]
    detail = (await client.get(f"/api/docker-images/{new.image.id}", headers=caller.headers)).json()
    assert [(v["digest"], v["tags"]) for v in detail["versions"]] == [
        (digest_of("2.1"), ["2.1", "latest"]),
        (digest_of("1.0"), ["1.0"]),
    ]


async def test_a_version_can_lose_every_tag_and_other_images_keep_theirs(runtime: Runtime) -> None:
    await publish(runtime, digest=digest_of("a"), tags=("latest",))
    await publish(runtime, "nginx", digest=digest_of("n"), tags=("latest",))

    moved = await publish(runtime, digest=digest_of("b"), tags=("latest", "3"))

    assert [m.tag for m in moved.moved_tags] == ["latest"]
    assert await _tags(runtime) == {
        digest_of("a"): [],
        digest_of("b"): ["latest", "3"],
        digest_of("n"): ["latest"],
    }


async def test_a_repository_change_is_refused_without_move_repository_and_named_with_it(
    runtime: Runtime,
) -> None:
    await publish(runtime, digest=digest_of("1"))
    elsewhere = PublishRequest(
        name="python",
        repository="mirror.example.com/python",
        digest=digest_of("2"),
        tags=("2",),
        sbom=small_sbom(),
    )

    with pytest.raises(Conflict) as refused:
        async with runtime.db.transaction() as session:
            await PublishingService(session, runtime.clock).publish(OPERATOR, elsewhere)

    assert "is pulled from registry.example.com/python" in refused.value.message
    assert "mirror.example.com/python" in refused.value.message
    assert "--move-repository" in refused.value.message
    assert list(await _tags(runtime)) == [digest_of("1")]

    async with runtime.db.transaction() as session:
        moved = await PublishingService(session, runtime.clock).publish(
            OPERATOR, PublishRequest(**{**elsewhere.__dict__, "move_repository": True})
        )
    assert moved.previous_repository == "registry.example.com/python"
    async with runtime.db.sessions() as session:
        [image] = (await session.execute(select(Image))).scalars()
    assert image.repository == "mirror.example.com/python"


async def test_the_same_repository_needs_no_flag(runtime: Runtime) -> None:
    await publish(runtime, digest=digest_of("1"))
    again = await publish(runtime, digest=digest_of("2"), tags=("2",))
    assert again.previous_repository is None


async def test_an_unpublished_digest_published_again_says_to_republish(runtime: Runtime) -> None:
    await publish(runtime, digest=digest_of("1"))
    await unpublish(runtime, "python", digest_of("1"))

    with pytest.raises(Conflict) as refused:
        await publish(runtime, digest=digest_of("1"))

    assert "unpublished since" in refused.value.message
    assert f"portal images republish --image python --digest {digest_of('1')}" in refused.value.message


async def test_republish_brings_the_version_back_with_its_tags_and_queues_its_scan(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    caller = await make_caller(runtime, client, Role.VIEWER)
    first = await publish(runtime, digest=digest_of("1"), tags=("1", "stable"))
    await publish(runtime, digest=digest_of("2"), tags=("2", "latest"))
    await grant(runtime, caller.tenant, "python")
    await unpublish(runtime, "python", digest_of("1"))
    async with runtime.db.transaction() as session:
        for job in (await session.execute(select(Job))).scalars():
            await session.delete(job)

    back = await _republish(runtime, digest_of("1"))

    detail = (await client.get(f"/api/docker-images/{first.image.id}", headers=caller.headers)).json()
    assert [(v["id"], v["tags"]) for v in detail["versions"]] == [
        (detail["versions"][0]["id"], ["2", "latest"]),
        (first.version.id, ["1", "stable"]),
    ]
    assert detail["latestVersion"]["tags"] == ["2", "latest"]  # the newest publish stays the latest
    [event] = await _events(runtime, caller.tenant.id)
    assert (event["versionId"], event["republished"], event["movedTags"]) == (first.version.id, True, [])
    async with runtime.db.sessions() as session:
        [job] = (await session.execute(select(Job))).scalars()
    assert job.payload == {"versionId": first.version.id}
    assert back.republished is True


async def test_republish_with_tags_moves_them_and_announces_only_visible_moves(runtime: Runtime) -> None:
    tenant = await make_tenant(runtime)
    one = await publish(runtime, digest=digest_of("1"), tags=("1",))
    two = await publish(runtime, digest=digest_of("2"), tags=("2", "latest"))
    await publish(runtime, digest=digest_of("3"), tags=("3", "old"))
    await unpublish(runtime, "python", digest_of("3"))
    await unpublish(runtime, "python", digest_of("1"))
    await grant(runtime, tenant, "python")

    await _republish(runtime, digest_of("1"), ("1", "latest", "old"))

    assert await _tags(runtime) == {
        digest_of("1"): ["1", "latest", "old"],
        digest_of("2"): ["2"],
        digest_of("3"): ["3"],
    }
    [event] = await _events(runtime, tenant.id)
    assert event["versionId"] == one.version.id
    # Version 3 is unpublished: the tenant never saw it hold `old`.
    assert event["movedTags"] == [
        {"tag": "latest", "fromVersionId": two.version.id, "fromDigest": digest_of("2")}
    ]


async def test_republish_refuses_a_published_or_unknown_version_and_bad_tags(runtime: Runtime) -> None:
    await publish(runtime, digest=digest_of("1"))

    with pytest.raises(Conflict, match="is published already"):
        await _republish(runtime, digest_of("1"))
    with pytest.raises(NotFound, match="has no version with digest"):
        await _republish(runtime, digest_of("nope"))
    await unpublish(runtime, "python", digest_of("1"))
    with pytest.raises(ValidationFailed, match="'no spaces' is not a tag"):
        await _republish(runtime, digest_of("1"), ("no spaces",))
    assert await _tags(runtime) == {digest_of("1"): ["3.12", "latest"]}
