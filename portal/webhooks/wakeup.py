"""Wakes delivery workers the moment a transaction that queued webhook work commits (see
`portal.kit.wakeup`): this process's at once, other processes' through PostgreSQL's NOTIFY.

`record_event` marks every transaction that writes an outbox event; the webhooks service also asks
explicitly for work that writes no event (a redelivery).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.wakeup import OUTBOX_CHANNEL, mark


def request_delivery(session: AsyncSession) -> None:
    mark(session, OUTBOX_CHANNEL)
