from __future__ import annotations

import random

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .ingest.followup import ingest_followup_run, ingest_followups_due
from .models import SocialAccount
from .networks.base import AuthError, NetworkError, RateLimited, TransientError
from .outbox import RetryLater, outbound_deliver, outbound_reap
from .sync import (
    SyncBusy,
    backfill_fail,
    backfill_step,
    sync_account_run,
    sync_due_account_ids,
)


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


# -- sync (queue "sync", by name: crm.tasks.sync_* / backfill_*) ---------------------------

#: Backoff for transient errors: 30 s, 1, 2, 4 … minutes, capped at an hour.
TRANSIENT_BACKOFF = 30
TRANSIENT_BACKOFF_MAX = 3600


def _backoff(retries: int) -> int:
    return min(TRANSIENT_BACKOFF * 2**retries, TRANSIENT_BACKOFF_MAX) + random.randint(0, 10)


@shared_task(bind=True, max_retries=8, acks_late=True)
def sync_account(self, account_id: int) -> dict | str | None:
    """One sync of one account (idempotent: the page upsert and the lease make a repeated
    or redelivered run harmless). Rate limits retry at the network's reset time, transient
    errors with exponential backoff; rejected credentials do not retry."""
    try:
        result = sync_account_run(account_id=account_id)
    except SocialAccount.DoesNotExist:
        return None
    except SyncBusy:
        return "busy"
    except RateLimited as exc:
        raise self.retry(exc=exc, eta=exc.reset_at, countdown=None) from None
    except TransientError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None
    except (AuthError, NetworkError) as exc:
        return f"failed: {exc}"
    if result.more:
        sync_account.apply_async((account_id,))
    return {"pages": result.pages, "created": result.created, "skipped": result.skipped}


@shared_task
def sync_due_accounts() -> int:
    """Beat, every minute: queue a sync for each active account that is due."""
    due = sync_due_account_ids(now=timezone.now())
    for account_id in due:
        sync_account.delay(account_id)
    return len(due)


@shared_task(bind=True, max_retries=8, acks_late=True)
def backfill_account(self, account_id: int) -> str | None:
    """One bounded batch of history; re-queues itself while there is more."""
    try:
        more = backfill_step(account_id=account_id)
    except SocialAccount.DoesNotExist:
        return None
    except SyncBusy:
        raise self.retry(countdown=5, max_retries=None) from None
    except RateLimited as exc:
        raise self.retry(exc=exc, eta=exc.reset_at, countdown=None) from None
    except TransientError as exc:
        if self.request.retries >= self.max_retries:
            backfill_fail(account_id=account_id, error=str(exc))
            return f"failed: {exc}"
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None
    except (AuthError, NetworkError) as exc:
        backfill_fail(account_id=account_id, error=str(exc))
        return f"failed: {exc}"
    if more:
        backfill_account.apply_async((account_id,))
        return "more"
    return "done"


# -- ingest follow-ups (queue "default": database work, no network) ---------------------


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,  # idempotent: the batch row is locked, done_at set once
    autoretry_for=(OperationalError,),  # a deadlock or a lost connection
    max_retries=5,
    retry_backoff=2,
)
def ingest_followup(self, batch_id: int) -> int | None:
    """The follow-up of one stored page (crm.ingest.followup): search documents, touch,
    stage rules, scores, ticket rules. Returns the stage changes made, or None when the
    batch was done already or another worker holds it."""
    return ingest_followup_run(batch_id=batch_id)


@shared_task
def ingest_followups_sweep() -> int:
    """Beat: queue again every follow-up left undone past its grace (a lost message, a
    killed worker); a batch already running elsewhere is skipped by its row lock."""
    due = ingest_followups_due()
    for batch_id in due:
        ingest_followup.delay(batch_id)
    return len(due)
