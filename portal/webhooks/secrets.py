"""The operator's side of the signing secrets kept at rest: re-encrypting them all under a new key."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.encryption import SecretBox
from portal.kit.tenancy import across_tenants
from portal.webhooks.models import WebhookSubscription


async def reencrypt_secrets(session: AsyncSession, secrets: SecretBox) -> int:
    """Every subscription's secrets, re-encrypted under the first key of `secrets`; how many
    subscriptions. Raises `SecretUnreadable` (and changes nothing, the caller rolling back) when a
    stored secret decrypts under none of the keys."""
    statement = across_tenants(select(WebhookSubscription)).order_by(WebhookSubscription.id)
    subscriptions = list((await session.execute(statement)).scalars())
    for subscription in subscriptions:
        subscription.secret = secrets.reencrypt(subscription.secret)
        if subscription.previous_secret:
            subscription.previous_secret = secrets.reencrypt(subscription.previous_secret)
    await session.flush()
    return len(subscriptions)
