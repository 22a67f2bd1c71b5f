from dataclasses import fields

from portal.auth.actor import Actor, ActorType, Origin, TenantRef
from portal.users.models import Role


def test_an_actor_at_an_origin_is_the_same_actor_from_there() -> None:
    actor = Actor(
        type=ActorType.API_KEY,
        id="k1",
        name="ci key",
        role=Role.USER,
        tenant=TenantRef(id="t1", slug="acme", name="Acme"),
        email="owner@acme.example",
        user_id="u1",
        origin=Origin(ip="203.0.113.1"),
    )
    origin = Origin(ip="198.51.100.7", user_agent="curl/8", request_id="r1")

    moved = actor.at(origin)

    assert moved.origin == origin
    assert moved == Actor(
        **{f.name: getattr(actor, f.name) for f in fields(Actor) if f.name != "origin"}, origin=origin
    )
    # `at` names each field (it is on every request's path): one added to Actor must be added there too.
    assert [f.name for f in fields(Actor)] == [
        "type",
        "id",
        "name",
        "role",
        "tenant",
        "email",
        "user_id",
        "origin",
    ]
