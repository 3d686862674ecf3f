from __future__ import annotations

import random
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from .ingest.followup import ingest_followup_run, ingest_followups_due
from .models import SocialAccount
from .networks.base import AuthError, NetworkError, RateLimited, TransientError
from .outbox import RetryLater, outbound_deliver, outbound_reap
from .sync import (
    LeaseLost,
    SyncBusy,
    backfill_fail,
    backfill_step,
    streams_resume_due,
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
# Every sync task is idempotent (the page upsert, the lease, each stream's state stored
# with its page), so each is acked late and requeued when its pool process dies. A
# countdown or eta is never longer than MOMENTO_TASK_MAX_COUNTDOWN, below the broker's
# visibility timeout. A stream's own network errors are recorded on its row (with its
# retry time) by the sync itself; beat and the sweeper come back for it.

#: A backfill waiting for a busy lease tries again after this many seconds …
BUSY_COUNTDOWN = 5
#: … this many times, then hands over to the sweeper (which waits for the lease).
BUSY_RETRIES = 8


def _backoff(retries: int) -> int:
    """Transient errors: MOMENTO_SYNC_BACKOFF_SECONDS (30 s), doubling, with jitter,
    capped at MOMENTO_TASK_MAX_COUNTDOWN."""
    first = settings.MOMENTO_SYNC_BACKOFF_SECONDS
    cap = settings.MOMENTO_TASK_MAX_COUNTDOWN
    return min(first * 2**retries + random.randint(0, max(1, first // 3)), cap)


def _within_countdown(at: datetime) -> bool:
    """Whether a retry at ``at`` may wait in a worker (see the visibility timeout)."""
    return at <= timezone.now() + timedelta(seconds=settings.MOMENTO_TASK_MAX_COUNTDOWN)


SYNC_TASK = {"bind": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(max_retries=8, **SYNC_TASK)
def sync_account(self, account_id: int) -> dict | str | None:
    """One sync of one account (idempotent: the page upsert and the lease make a repeated
    or redelivered run harmless); queues the next while a stream has more. Each stream's
    errors are on its row; rejected credentials stop the account."""
    try:
        result = sync_account_run(account_id=account_id)
    except SocialAccount.DoesNotExist:
        return None
    except SyncBusy:
        return "busy"
    except LeaseLost:
        return "lease lost"  # a page outlived the lease: another run took over
    except RateLimited as exc:
        if not _within_countdown(exc.reset_at):
            return f"rate limited until {exc.reset_at.isoformat()}"
        raise self.retry(exc=exc, eta=exc.reset_at, countdown=None) from None
    except TransientError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None
    except (AuthError, NetworkError) as exc:
        return f"failed: {exc}"
    if result.more:
        sync_account.apply_async((account_id,))
    return {"pages": result.pages, "created": result.created, "skipped": result.skipped}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sync_due_accounts() -> int:
    """Beat, every minute: queue a sync for each active account that is due."""
    due = sync_due_account_ids(now=timezone.now())
    for account_id in due:
        sync_account.delay(account_id)
    return len(due)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sync_sweep() -> int:
    """Beat, every minute: queue a sync for every account with unfinished stream work (a
    walk under way, a stream due to retry) whose lease is free, whatever happened to the
    task that was doing it. A duplicate finds the lease taken and stops."""
    due = streams_resume_due(now=timezone.now())
    for account_id in due:
        sync_account.delay(account_id)
    return len(due)


@shared_task(max_retries=8, **SYNC_TASK)
def backfill_account(self, account_id: int) -> str | None:
    """One bounded batch of the streams' first polls; queues the next while there is
    more. The state is on the streams' rows, so a lost message is resumed by
    ``sync_sweep`` (and by beat's polls)."""
    try:
        more = backfill_step(account_id=account_id)
    except SocialAccount.DoesNotExist:
        return None
    except LeaseLost:
        return "lease lost"  # the page rolled back; the sweeper resumes
    except SyncBusy:
        if self.request.retries >= BUSY_RETRIES:
            return "busy: handed over to the sweeper"
        raise self.retry(countdown=BUSY_COUNTDOWN) from None
    except RateLimited as exc:
        if not _within_countdown(exc.reset_at) or self.request.retries >= self.max_retries:
            return f"rate limited until {exc.reset_at.isoformat()}: the sweeper resumes"
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
