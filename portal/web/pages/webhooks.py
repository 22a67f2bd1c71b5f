"""Webhooks: every role sees the subscriptions and their delivery log; admins create, edit, rotate the
secret, send a test, redeliver and delete. A secret is shown once, in the answer to the post that made it
(never in a URL, never again)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from portal.api.dependencies import DbSession
from portal.api.path_ids import PathId
from portal.errors import Conflict, ValidationFailed
from portal.events import EventType
from portal.kit.pagination import PageParams
from portal.kit.schema import NO_NUL_PATTERN
from portal.users.models import Role
from portal.web.dependencies import Form, Page, SignedIn
from portal.web.forms import FormRefused, parse, refused_by_service
from portal.webhooks.models import WebhookSubscription
from portal.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate
from portal.webhooks.service import WebhookService

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
_CREATE = TypeAdapter(SubscriptionCreate)
_UPDATE = TypeAdapter(SubscriptionUpdate)
DONE = {
    "saved": "The webhook is saved.",
    "updated": "A webhook for this URL existed: it is updated (its secret is unchanged).",
    "test": "A webhook.test delivery is queued; reload to see its attempts.",
    "redelivered": "The delivery is queued again, with the same webhook-id.",
    "deleted": "The webhook and its delivery log are deleted.",
}
Cursor = Annotated[str | None, Query(max_length=300, pattern=NO_NUL_PATTERN)]
Done = Annotated[str | None, Query(max_length=20, pattern=NO_NUL_PATTERN)]
EVENT_TYPES = [event.value for event in EventType]


def _service(page: SignedIn, db: DbSession) -> WebhookService:
    settings = page.runtime.settings
    return WebhookService(db, settings.webhook_allow_private, page.runtime.secrets, page.runtime.clock)


def _fields(form: Form) -> dict[str, Any]:
    return {
        "url": form.get("url").strip(),
        "events": form.all("events"),
        "description": form.optional("description"),
        "active": form.checked("active"),
    }


async def _list(
    page: SignedIn,
    db: DbSession,
    *,
    cursor: str | None = None,
    done: str | None = None,
    problems: list[str] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    found = await _service(page, db).list(page.actor.tenant_id, PageParams(PER_PAGE, cursor or None))
    page.section = "webhooks"
    return page.render(
        "webhooks.html",
        status_code=400 if problems else 200,
        webhooks=found.items,
        next_cursor=found.next_cursor,
        done=DONE.get(done or ""),
        problems=problems or [],
        entered=entered or {"url": "", "events": [], "description": "", "active": True},
        event_types=EVENT_TYPES,
    )


@router.get("/webhooks")
async def webhooks(page: Page, db: DbSession, cursor: Cursor = None, done: Done = None) -> Response:
    return await _list(page, db, cursor=cursor, done=done)


@router.post("/webhooks")
async def create_webhook(page: Page, db: DbSession) -> Response:
    form = await page.form(Role.ADMIN)
    fields = _fields(form)
    try:
        body = parse(_CREATE, fields)
        try:
            upserted = await _service(page, db).upsert(page.actor, body)
        except (ValidationFailed, Conflict) as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        entered = {**fields, "description": fields["description"] or ""}
        return await _list(page, db, problems=refused.problems, entered=entered)
    if upserted.secret is None:
        return RedirectResponse(f"/webhooks/{upserted.subscription.id}?done=updated", status_code=303)
    return _secret_page(page, upserted.subscription, upserted.secret, created=True)


def _secret_page(
    page: SignedIn, subscription: WebhookSubscription, secret: str, *, created: bool
) -> Response:
    page.section = "webhooks"
    return page.render("webhook_secret.html", webhook=subscription, secret=secret, created=created)


async def _detail(
    page: SignedIn,
    db: DbSession,
    webhook_id: str,
    *,
    cursor: str | None = None,
    done: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    service = _service(page, db)
    subscription = await service.get(page.actor.tenant_id, webhook_id)
    deliveries = await service.deliveries(
        page.actor.tenant_id, webhook_id, PageParams(PER_PAGE, cursor or None)
    )
    page.section = "webhooks"
    return page.render(
        "webhook.html",
        status_code=400 if problems else 200,
        webhook=subscription,
        deliveries=deliveries.items,
        next_cursor=deliveries.next_cursor,
        done=DONE.get(done or ""),
        problems=problems or [],
        event_types=EVENT_TYPES,
    )


@router.get("/webhooks/{webhook_id}")
async def webhook(
    page: Page, db: DbSession, webhook_id: PathId, cursor: Cursor = None, done: Done = None
) -> Response:
    return await _detail(page, db, webhook_id, cursor=cursor, done=done)


@router.post("/webhooks/{webhook_id}/edit")
async def edit_webhook(page: Page, db: DbSession, webhook_id: PathId) -> Response:
    form = await page.form(Role.ADMIN)
    try:
        body = parse(_UPDATE, _fields(form))
        try:
            await _service(page, db).update(page.actor, webhook_id, body)
        except (ValidationFailed, Conflict) as refused:
            raise refused_by_service(refused) from None
    except FormRefused as refused:
        return await _detail(page, db, webhook_id, problems=refused.problems)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=saved", status_code=303)


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(page: Page, db: DbSession, webhook_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    rotated = await _service(page, db).rotate_secret(page.actor, webhook_id)
    return _secret_page(page, rotated.subscription, rotated.secret, created=False)


@router.post("/webhooks/{webhook_id}/test")
async def send_test(page: Page, db: DbSession, webhook_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    await _service(page, db).send_test(page.actor, webhook_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=test", status_code=303)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(page: Page, db: DbSession, webhook_id: PathId, delivery_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    await _service(page, db).redeliver(page.actor, webhook_id, delivery_id)
    return RedirectResponse(f"/webhooks/{webhook_id}?done=redelivered", status_code=303)


@router.post("/webhooks/{webhook_id}/delete")
async def delete_webhook(page: Page, db: DbSession, webhook_id: PathId) -> Response:
    await page.form(Role.ADMIN)
    await _service(page, db).delete(page.actor, webhook_id)
    return RedirectResponse("/webhooks?done=deleted", status_code=303)
