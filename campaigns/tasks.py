"""Listening tasks. Named ``listen_*`` so they run on the ``sync`` queue with the rest of
the network I/O (see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from crm.networks.base import RateLimited, TransientError

from .services.listening import listening_due, rule_listen


@shared_task(bind=True, max_retries=8, acks_late=True)
def listen_rule(self, rule_id: int, network: str) -> dict | None:
    """Search one network for one rule. Idempotent (cursors saved per page, posts and
    feed rows unique); one run per (rule, network) at a time. A rate limit retries at
    the network's reset time, never sleeping in the worker."""
    lock = f"campaigns:listen:{rule_id}:{network}"
    if not cache.add(lock, 1, timeout=settings.CELERY_TASK_TIME_LIMIT):
        return None
    try:
        result = rule_listen(rule_id=rule_id, network=network)
    except RateLimited as exc:
        cache.delete(lock)
        raise self.retry(eta=exc.reset_at, countdown=None) from None
    except TransientError:
        cache.delete(lock)
        raise self.retry(countdown=60 * 2**self.request.retries) from None
    cache.delete(lock)
    return {"pages": result.pages, "matched": result.matched, "new_contacts": result.new_contacts}


@shared_task
def listen_due() -> int:
    """Queue a search of every active rule of every running campaign (beat, every few
    minutes). Returns how many were queued."""
    due = listening_due()
    for rule_id, network in due:
        listen_rule.delay(rule_id, network)
    return len(due)
