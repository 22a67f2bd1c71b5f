"""The tenant's queries on subscriptions and deliveries, each through `scoped`. The worker's own
cross-tenant claims live in `claims.py` and `fanout.py`."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.pagination import BY_TIME, Keyset, PageParams, Slice, paginate_scalars
from portal.kit.tenancy import scoped
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

SUBSCRIPTION_ORDER = Keyset(BY_TIME, (WebhookSubscription.created_at, WebhookSubscription.id))
DELIVERY_ORDER = Keyset(BY_TIME, (WebhookDelivery.created_at, WebhookDelivery.id), descending=True)


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)

    async def subscription(self, tenant_id: str, subscription_id: str) -> WebhookSubscription | None:
        statement = scoped(select(WebhookSubscription), WebhookSubscription, tenant_id).where(
            WebhookSubscription.id == subscription_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def subscription_by_url(self, tenant_id: str, url: str) -> WebhookSubscription | None:
        statement = scoped(select(WebhookSubscription), WebhookSubscription, tenant_id).where(
            WebhookSubscription.url == url
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def subscriptions(self, tenant_id: str, page: PageParams) -> Slice[WebhookSubscription]:
        """Oldest first."""
        statement = scoped(select(WebhookSubscription), WebhookSubscription, tenant_id)
        return await paginate_scalars(self.session, statement, SUBSCRIPTION_ORDER, page)

    async def delivery(
        self, tenant_id: str, subscription_id: str, delivery_id: str
    ) -> WebhookDelivery | None:
        statement = scoped(select(WebhookDelivery), WebhookDelivery, tenant_id).where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.id == delivery_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def deliveries(
        self, tenant_id: str, subscription_id: str, page: PageParams
    ) -> Slice[WebhookDelivery]:
        """Newest first."""
        statement = scoped(select(WebhookDelivery), WebhookDelivery, tenant_id).where(
            WebhookDelivery.subscription_id == subscription_id
        )
        return await paginate_scalars(self.session, statement, DELIVERY_ORDER, page)

    async def attempts(self, tenant_id: str, delivery_ids: Sequence[str]) -> dict[str, list[WebhookAttempt]]:
        """Each delivery's attempts, oldest first."""
        found: dict[str, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
        if not delivery_ids:
            return found
        statement = (
            scoped(select(WebhookAttempt), WebhookAttempt, tenant_id)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(WebhookAttempt.at, WebhookAttempt.id)
        )
        for attempt in (await self.session.execute(statement)).scalars():
            found[attempt.delivery_id].append(attempt)
        return found

    async def delete(self, subscription: WebhookSubscription) -> None:
        await self.session.delete(subscription)
