import pytest
from sqlalchemy import select

from portal.catalog import CatalogService, PublishingService, PublishRequest
from portal.catalog.models import Image, ImageVersion
from portal.errors import Conflict, ValidationFailed
from portal.events import EventType, OutboxEvent
from portal.kit.tenancy import scoped
from portal.runtime import Runtime
from portal.sbom import parse_sbom
from tests.catalog.factories import digest_of, grant, publish, small_sbom, unpublish
from tests.factories import OPERATOR, make_tenant


async def _versions(runtime: Runtime) -> list[ImageVersion]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(ImageVersion))).scalars())


async def test_a_digest_published_twice_for_an_image_is_a_conflict_and_stores_nothing(
    runtime: Runtime,
) -> None:
    digest = digest_of("one")
    await publish(runtime, digest=digest)

    with pytest.raises(Conflict, match="already has a version with digest"):
        await publish(runtime, digest=digest, tags=("other",))

    assert len(await _versions(runtime)) == 1
    await publish(runtime, "nginx", digest=digest)  # the same digest under another image is fine


async def test_publishing_records_one_event_per_entitled_tenant(runtime: Runtime) -> None:
    acme, globex, initech = [await make_tenant(runtime) for _ in range(3)]
    await publish(runtime, digest=digest_of("v1"))
    await grant(runtime, acme, "python")
    await grant(runtime, globex, "python")

    published = await publish(runtime, digest=digest_of("v2"), tags=("3.13",), hardening=("fips",))

    async with runtime.db.sessions() as session:
        events = {
            tenant.id: (await session.execute(scoped(select(OutboxEvent), OutboxEvent, tenant.id)))
            .scalars()
            .all()
            for tenant in (acme, globex, initech)
        }
    assert [len(events[t.id]) for t in (acme, globex, initech)] == [1, 1, 0]
    event = events[acme.id][0]
    assert event.event_type == EventType.IMAGE_VERSION_PUBLISHED.value
    assert event.data == {
        "imageId": published.image.id,
        "imageName": "python",
        "versionId": published.version.id,
        "tags": ["3.13"],
        "digest": digest_of("v2"),
        "hardeningTags": ["fips"],
        "publishedAt": event.data["publishedAt"],
        # the same SBOM as v1; the hardening tags changed
        "changes": {
            "previousVersionId": event.data["changes"]["previousVersionId"],
            "packagesAdded": 0,
            "packagesRemoved": 0,
            "packagesChanged": 0,
            "hardeningTagsAdded": ["fips"],
            "hardeningTagsRemoved": ["non-root"],
        },
        "movedTags": [],
        "republished": False,
    }
    assert event.data["publishedAt"].endswith("Z")


async def test_a_refused_sbom_stores_nothing(runtime: Runtime) -> None:
    with pytest.raises(ValidationFailed, match="The SBOM was refused"):
        await publish(runtime, sbom=b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{}]}')

    async with runtime.db.sessions() as session:
        assert (await session.execute(select(Image))).scalars().all() == []


async def test_every_bad_field_of_a_publish_is_named(runtime: Runtime) -> None:
    request = PublishRequest(
        name="Not An Image",
        repository="",
        digest="sha256:abc",
        tags=("bad tag",),
        sbom=small_sbom(),
        hardening_tags=("FIPS!",),
    )
    async with runtime.db.transaction() as session:
        with pytest.raises(ValidationFailed) as refused:
            await PublishingService(session).publish(OPERATOR, request)
    assert [d.path for d in refused.value.details or []] == [
        ["name"],
        ["repository"],
        ["digest"],
        ["tags"],
        ["hardeningTags"],
    ]


async def test_unpublishing_falls_back_to_the_previous_version_then_hides_the_image(runtime: Runtime) -> None:
    tenant = await make_tenant(runtime)
    first = await publish(runtime, digest=digest_of("v1"), hardening=("fips",))
    second = await publish(runtime, digest=digest_of("v2"), hardening=("stig",))
    await grant(runtime, tenant, "python")

    await unpublish(runtime, "python", digest_of("v2"))
    async with runtime.db.sessions() as session:
        service = CatalogService(session)
        image = await service.visible_image(tenant.id, first.image.id)
        assert image is not None and image.latest_version_id == first.version.id
        assert await service.visible_version(tenant.id, image.id, second.version.id) is None
        assert await service.visible_version(tenant.id, image.id, first.version.id) is not None

    await unpublish(runtime, "python", digest_of("v1"))
    async with runtime.db.sessions() as session:
        assert await CatalogService(session).visible_image(tenant.id, first.image.id) is None
    assert len(await _versions(runtime)) == 2  # the records stay

    with pytest.raises(Conflict, match="already unpublished"):
        await unpublish(runtime, "python", digest_of("v1"))


async def test_other_features_can_read_visibility_and_every_published_inventory(runtime: Runtime) -> None:
    tenant, stranger = await make_tenant(runtime), await make_tenant(runtime)
    sbom = small_sbom(("flask", "3.0.0"))
    kept = await publish(runtime, "flask", sbom=sbom)
    gone = await publish(runtime, "django")
    await unpublish(runtime, "django", gone.version.digest)
    await grant(runtime, tenant, "flask")

    async with runtime.db.sessions() as session:
        service = CatalogService(session)
        assert (await service.visible_image(tenant.id, kept.image.id)) is not None
        assert await service.visible_image(stranger.id, kept.image.id) is None
        assert await service.visible_image(tenant.id, "not-a-uuid") is None
        listed = [entry async for entry in service.published_inventories()]
        assert [entry.version.id for entry in listed] == [kept.version.id]
        # by name and digest, published or not (the demo's seeding asks so)
        found = await service.version_by_digest("flask", kept.version.digest)
        assert found is not None and found.id == kept.version.id
        withdrawn = await service.version_by_digest("django", gone.version.digest)
        assert withdrawn is not None and withdrawn.id == gone.version.id
        assert await service.version_by_digest("flask", gone.version.digest) is None
        assert await service.version_by_digest("no-such-image", kept.version.digest) is None
        assert listed[0].inventory == parse_sbom(sbom)
        assert await service.inventory(kept.version.id) == parse_sbom(sbom)
        assert await service.entitled_tenant_ids(kept.image.id) == [tenant.id]
