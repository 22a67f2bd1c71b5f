"""The one paging helper: every cursor its grammar allows is a position; nothing else is."""

import base64
import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.errors import ValidationFailed
from portal.kit.ids import new_id
from portal.kit.pagination import BY_NAME, BY_TIME, MAX_LIMIT, CursorGrammar, PageParams, Slice, every_item
from portal.runtime import Runtime
from portal.users.models import Role
from tests.factories import make_caller
from tests.webhooks.factories import make_subscription

# The cursor the attack sent: a time and a lone surrogate, base64url-encoded JSON (the old format).
SURROGATE_CURSOR = (
    base64.urlsafe_b64encode(json.dumps(["2024-01-01T00:00:00+00:00", "\ud800"]).encode())
    .decode()
    .rstrip("=")
)


@pytest.mark.parametrize("grammar", [BY_TIME, BY_NAME], ids=["by-time", "by-name"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_every_cursor_the_grammar_allows_is_a_position(grammar: CursorGrammar, data: st.DataObject) -> None:
    cursor = data.draw(st.from_regex(grammar.pattern, fullmatch=True).filter(lambda c: "\n" not in c))
    assert len(cursor) <= grammar.max_length
    position = grammar.decode(cursor)
    assert len(position) == len(grammar.kinds)


def test_a_position_survives_its_cursor() -> None:
    moment = datetime(2025, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    identifier = new_id()
    assert BY_TIME.decode(BY_TIME.encode([moment, identifier])) == (moment, identifier)
    assert BY_NAME.decode(BY_NAME.encode(["library/python", identifier])) == ("library/python", identifier)
    assert re.fullmatch(BY_TIME.pattern, BY_TIME.encode([moment, identifier]))


@pytest.mark.parametrize(
    "cursor",
    [SURROGATE_CURSOR, "\ud800~" + new_id(), "1\x00~" + new_id(), "1~" + new_id() + "\x00", "", "1~x", "~"],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        BY_TIME.decode(cursor)
    assert refused.value.details is not None and refused.value.details[0].path == ["query", "cursor"]


LISTS = [
    "/api/docker-images",
    "/api/cve-watches",
    "/api/feature-requests",
    "/api/webhooks",
    "/api/webhooks/{webhook}/deliveries",
    "/api/docker-images/{image}/versions/{version}/scan-history",
]


async def test_a_lone_surrogate_cursor_is_refused_by_every_list(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    admin = await make_caller(runtime, client, Role.ADMIN)
    webhook = await make_subscription(runtime, admin.tenant, "https://hooks.example.com/x")
    ids = {"webhook": webhook.id, "image": new_id(), "version": new_id()}
    for path in LISTS:
        # The second is a surrogate's bytes (not UTF-8) as a client can put them in a URL.
        for cursor in (SURROGATE_CURSOR, "1~" + new_id() + "%ED%A0%80"):
            answer = await client.get(f"{path.format(**ids)}?cursor={cursor}", headers=admin.headers)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["details"][0]["path"] == ["query", "cursor"]


async def test_every_list_declares_its_cursor_grammar(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    for path in LISTS:
        template = path.replace("{webhook}", "{webhook_id}").replace("{image}", "{image_id}")
        template = template.replace("{version}", "{version_id}")
        parameters = document["paths"][template]["get"]["parameters"]
        (cursor,) = [p for p in parameters if p["name"] == "cursor"]
        schema = cursor["schema"]["anyOf"][0]
        assert schema["pattern"] in (BY_TIME.pattern, BY_NAME.pattern) and schema["maxLength"] > 0, path


@pytest.mark.parametrize(
    ("at_most", "expected"), [(None, 450), (MAX_LIMIT + 50, MAX_LIMIT + 50), (3, 3), (1000, 450), (0, 0)]
)
async def test_every_item_follows_the_cursors_up_to_at_most(at_most: int | None, expected: int) -> None:
    asked: list[PageParams] = []

    async def fetch(page: PageParams) -> Slice[int]:
        asked.append(page)
        start = int(page.cursor or 0)
        end = min(start + page.limit, 450)
        return Slice(list(range(start, end)), str(end) if end < 450 else None)

    assert await every_item(fetch, at_most=at_most) == list(range(expected))
    # never a page larger than the API allows, nor more items asked for than wanted
    assert all(1 <= page.limit <= MAX_LIMIT for page in asked)
    if at_most is not None:
        assert sum(page.limit for page in asked) <= at_most
