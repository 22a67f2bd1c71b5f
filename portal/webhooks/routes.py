"""Webhook subscriptions and their deliveries. Every role reads; every write is the admin's."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.responses import JSONResponse

from portal.api.dependencies import DbSession, RuntimeDep
from portal.api.openapi import error_responses
from portal.api.paging import TimePaging
from portal.api.path_ids import PathId
from portal.auth.guard import AdminActor, CurrentActor, GuardedRoute
from portal.kit.pagination import Page, PageParams
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from portal.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from portal.webhooks.service import WebhookService

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"], route_class=GuardedRoute)

Paging = Annotated[PageParams, Depends(TimePaging)]


async def _service(db: DbSession, runtime: RuntimeDep) -> WebhookService:
    return WebhookService(db, runtime.settings.webhook_allow_private, runtime.secrets, runtime.clock)


Service = Annotated[WebhookService, Depends(_service)]


def _subscription(subscription: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(subscription)


def _with_secret(subscription: WebhookSubscription, secret: str) -> SubscriptionWithSecret:
    """The subscription and its secret in clear (stored encrypted, shown only in this answer)."""
    return SubscriptionWithSecret(**_subscription(subscription).model_dump(), secret=secret)


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_type=delivery.event_type,
        webhook_id=delivery.message_id,
        status=delivery.status,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        attempts=[AttemptOut.model_validate(attempt) for attempt in attempts],
    )


def _json(model: Any, status_code: int) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status_code)


@router.get(
    "",
    response_model=Page[SubscriptionOut],
    summary="List the tenant's webhook subscriptions, oldest first",
    responses=error_responses(400),
)
async def list_webhooks(actor: CurrentActor, service: Service, page: Paging) -> Page[SubscriptionOut]:
    found = await service.list(actor.tenant_id, page)
    return Page[SubscriptionOut](items=[_subscription(s) for s in found.items], next_cursor=found.next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionWithSecret,
    summary="Create a subscription, or update the one with this exact URL (the upsert)",
    responses={
        200: {"model": SubscriptionOut, "description": "Updated the subscription that has this URL."},
        201: {"description": "Created; the answer carries the signing secret, shown only this once."},
        **error_responses(409),
    },
)
async def upsert_webhook(body: SubscriptionCreate, actor: AdminActor, service: Service) -> Response:
    upserted = await service.upsert(actor, body)
    if upserted.secret is not None:
        return _json(_with_secret(upserted.subscription, upserted.secret), status.HTTP_201_CREATED)
    return _json(_subscription(upserted.subscription), status.HTTP_200_OK)


@router.get(
    "/{webhook_id}",
    response_model=SubscriptionOut,
    summary="One subscription (never its secret)",
    responses=error_responses(404),
)
async def get_webhook(webhook_id: PathId, actor: CurrentActor, service: Service) -> SubscriptionOut:
    return _subscription(await service.get(actor.tenant_id, webhook_id))


@router.put(
    "/{webhook_id}",
    response_model=SubscriptionOut,
    summary="Change any of url, events, description, active",
    responses=error_responses(404, 409),
)
async def update_webhook(
    webhook_id: PathId, body: SubscriptionUpdate, actor: AdminActor, service: Service
) -> SubscriptionOut:
    return _subscription(await service.update(actor, webhook_id, body))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a subscription and its delivery log",
    responses=error_responses(404),
)
async def delete_webhook(webhook_id: PathId, actor: AdminActor, service: Service) -> Response:
    await service.delete(actor, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=SubscriptionWithSecret,
    summary="A new signing secret; the previous one keeps signing for 24 hours",
    responses=error_responses(404),
)
async def rotate_secret(webhook_id: PathId, actor: AdminActor, service: Service) -> SubscriptionWithSecret:
    rotated = await service.rotate_secret(actor, webhook_id)
    return _with_secret(rotated.subscription, rotated.secret)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="The subscription's deliveries with their attempts, newest first",
    responses=error_responses(400, 404),
)
async def list_deliveries(
    webhook_id: PathId, actor: CurrentActor, service: Service, page: Paging
) -> Page[DeliveryOut]:
    found = await service.deliveries(actor.tenant_id, webhook_id, page)
    return Page[DeliveryOut](
        items=[_delivery(item.delivery, item.attempts) for item in found.items], next_cursor=found.next_cursor
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    summary="Send a delivery again, with the same webhook-id and body",
    responses=error_responses(404),
)
async def redeliver(
    webhook_id: PathId, delivery_id: PathId, actor: AdminActor, service: Service
) -> DeliveryOut:
    found = await service.redeliver(actor, webhook_id, delivery_id)
    return _delivery(found.delivery, found.attempts)


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    summary="Queue a webhook.test event for this subscription, whatever its events",
    responses=error_responses(404),
)
async def send_test(webhook_id: PathId, actor: AdminActor, service: Service) -> DeliveryOut:
    delivery = await service.send_test(actor, webhook_id)
    return _delivery(delivery, [])
