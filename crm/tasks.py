from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .outbox import RetryLater, outbound_deliver, outbound_reap


@shared_task(bind=True, max_retries=12, acks_late=True)
def outbound_send(self, message_id: int) -> str | None:
    """Send one outbox message (idempotent: the row is claimed before sending)."""
    try:
        message = outbound_deliver(message_id=message_id)
    except RetryLater as later:
        raise self.retry(eta=later.at, countdown=None) from None
    return message.state if message else None


@shared_task
def outbound_reap_stale() -> int:
    return outbound_reap(now=timezone.now())
