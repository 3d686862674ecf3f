"""The sync engine: pull each stream of a social account from its stored cursor, page by
page, through ``crm.ingest``.

Guarantees:

* **one page, one transaction, cursor included**: a page's entries, its failures, the
  account's counters and the stream's new cursor commit together, so the cursor never
  moves past an item that was not stored, and a sync killed at any point resumes from
  the last committed page (the upsert makes a repeated page add nothing);
* **one sync of an account at a time**: a lease on the account row, claimed by an
  ``UPDATE … WHERE lease expired`` (works on PostgreSQL and SQLite), renewed in every
  page's transaction and released at the end; a worker killed mid-sync loses the lease
  when it expires (``MOMENTO_SYNC_LEASE_SECONDS``);
* errors are recorded on the account and re-raised for the task to schedule: a rate
  limit at the network's reset time, a transient error with backoff; rejected
  credentials mark the account ``needs_reconnect``.

Backfill (history the network still serves) runs in bounded batches under the same
lease: ``backfill_step`` stores one page and says whether there is more. A backfill is
state on the account, not a message in flight:

* its first step polls every stream (setting the forward cursors) before the walk back
  starts, under the same lease, so connecting an account never races its own first sync:
  the poll reads everything after the cursor, the walk everything up to the newest item
  at its start, which is no older than the poll;
* one Celery message at a time may continue it: the account names it
  (``backfill_task``) and a message with another id does nothing;
* ``backfill_due_at`` says until when that message is expected to run (its queue wait or
  its retry time); after that, with the lease free, ``backfill_sweep_due`` — run by beat —
  hands the backfill to a new message, whatever happened to the old one (a SIGKILLed
  worker, a lost message, a lease wait handed over).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .ingest import IngestStats, ingest_interactions
from .models import BackfillState, SocialAccount
from .networks import adapter_class, adapter_for
from .networks.base import (
    AuthError,
    FetchResult,
    InvalidRequest,
    NetworkAdapter,
    NetworkError,
    RateLimited,
)

State = SocialAccount.State

#: Pages one run reads (all streams together) before it hands over to a new task.
DEFAULT_MAX_PAGES = 20
#: Failures in a row after which an account shows as ``error``.
ERROR_AFTER = 5


def sync_interval() -> timedelta:
    return timedelta(seconds=settings.MOMENTO_SYNC_INTERVAL_SECONDS)


def lease_length() -> timedelta:
    return timedelta(seconds=settings.MOMENTO_SYNC_LEASE_SECONDS)


def backfill_page_budget(account: SocialAccount) -> int:
    """Most pages a backfill reads for ``account`` (all its streams together)."""
    streams = adapter_class(account.network).streams
    return settings.MOMENTO_BACKFILL_MAX_PAGES * len(streams)


class SyncBusy(Exception):
    """Another sync or backfill of this account holds the lease."""


class LeaseLost(Exception):
    """The lease expired and someone else took it: this run's page was rolled back."""


@dataclass
class SyncResult:
    account_id: int
    pages: int = 0
    created: int = 0
    failed: int = 0
    more: bool = False
    skipped: str = ""
    streams: dict[str, int] = field(default_factory=dict)
    #: Streams the network refused for good this run (stream → reason).
    errors: dict[str, str] = field(default_factory=dict)


# -- the lease -----------------------------------------------------------------------------


def sync_lease_claim(*, account_id: int) -> str | None:
    """Claim the account for one sync; returns a token, or None when another holds it.
    One UPDATE, so two workers can never both win."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        SocialAccount.objects.filter(pk=account_id)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_until=now + lease_length(), sync_lease_token=token)
    )
    return token if claimed else None


def sync_lease_release(*, account_id: int, token: str) -> None:
    SocialAccount.objects.filter(pk=account_id, sync_lease_token=token).update(
        sync_lease_until=None, sync_lease_token=""
    )


@contextmanager
def _leased(account_id: int) -> Iterator[str]:
    """Hold the account's lease for the block (raises SyncBusy when another holds it)."""
    token = sync_lease_claim(account_id=account_id)
    if token is None:
        raise SyncBusy(f"account {account_id} is being synced")
    try:
        yield token
    finally:
        sync_lease_release(account_id=account_id, token=token)


def _needs_reconnect(account_id: int, exc: Exception, **changes) -> None:
    SocialAccount.objects.filter(pk=account_id).update(
        state=State.NEEDS_RECONNECT, last_error=str(exc)[:2000], **changes
    )


def _renew(account_id: int, token: str, **changes) -> None:
    """Inside a page's transaction: extend the lease and write ``changes``; raises
    LeaseLost (rolling the page back) if the lease is no longer ours."""
    updated = SocialAccount.objects.filter(pk=account_id, sync_lease_token=token).update(
        sync_lease_until=timezone.now() + lease_length(), **changes
    )
    if not updated:
        raise LeaseLost(f"lease on account {account_id} lost")


# -- sync ------------------------------------------------------------------------------------


def sync_account_run(
    *,
    account_id: int,
    max_pages: int = DEFAULT_MAX_PAGES,
    page_limit: int | None = None,
    progress: Callable[[str, FetchResult, IngestStats], None] | None = None,
) -> SyncResult:
    """Sync every stream of one account, from its stored cursors, at most ``max_pages``
    pages in all (``result.more`` says whether a stream had more).

    Preconditions: call it outside any transaction (each page commits on its own). It
    claims the account's lease and raises ``SyncBusy`` when another run holds it.
    Raises ``SocialAccount.DoesNotExist`` for a missing account. A paused account or one
    that needs reconnecting is skipped (``result.skipped``). Network errors are recorded
    on the account and re-raised: ``RateLimited`` (``next_sync_at`` moves to its reset
    time), ``TransientError`` / ``InvalidRequest``, and ``AuthError`` after the account
    is marked ``needs_reconnect``.
    """
    account = SocialAccount.objects.get(pk=account_id)
    result = SyncResult(account_id=account_id)
    page_limit = page_limit or settings.MOMENTO_SYNC_PAGE_LIMIT
    if account.state in (State.PAUSED, State.NEEDS_RECONNECT):
        result.skipped = account.get_state_display()
        return result
    try:
        with _leased(account_id) as token:
            adapter = adapter_for(account)
            _sync_streams(account, adapter, token, result, max_pages, page_limit, progress)
            _record_success(account, adapter, more=result.more, errors=result.errors)
    except AuthError as exc:
        _needs_reconnect(account_id, exc)
        raise
    except RateLimited as exc:
        _record_failure(account_id, exc, next_at=exc.reset_at)
        raise
    except NetworkError as exc:
        _record_failure(account_id, exc)
        raise
    return result


def _sync_streams(account, adapter, token, result, max_pages, page_limit, progress) -> None:
    """Within the lease: each stream, page by page, each page committed with its cursor."""
    account_id = account.pk
    cursors = dict(account.cursors or {})
    for stream in adapter.streams:
        result.streams[stream] = 0
        while result.pages < max_pages:
            try:
                page = adapter.fetch(stream, cursors.get(stream), limit=page_limit)
            except InvalidRequest as exc:
                # This stream is refused for good (e.g. no DM access): the others
                # still sync, and the account shows why this one does not.
                result.errors[stream] = str(exc)
                break
            new_cursors = dict(cursors)
            if page.cursor is not None:
                new_cursors[stream] = page.cursor

            def save_cursor(stats: IngestStats, new_cursors=new_cursors) -> None:
                _renew(account_id, token, cursors=new_cursors)

            stats = ingest_interactions(
                account=account,
                items=page.items,
                failed=page.failed,
                stream=stream,
                before_commit=save_cursor,
            )
            cursors = new_cursors
            result.pages += 1
            result.created += stats.created
            result.failed += stats.failed
            result.streams[stream] += stats.created
            if progress is not None:
                progress(stream, page, stats)
            if not page.has_more:
                break
        else:
            result.more = True


def _record_success(
    account: SocialAccount, adapter: NetworkAdapter, *, more: bool, errors: dict[str, str]
) -> None:
    now = timezone.now()
    changes = {
        "last_synced_at": now,
        "last_error": "; ".join(f"{stream}: {error}" for stream, error in errors.items())[:2000],
        "consecutive_failures": 0,
        "next_sync_at": now if more else now + sync_interval(),
    }
    if account.state == State.ERROR:
        changes["state"] = State.ACTIVE
    fresh = adapter.updated_credentials()
    if fresh:
        account.credentials = fresh
        account.save(update_fields=["credentials", "updated_at"])
    SocialAccount.objects.filter(pk=account.pk).update(**changes)


def _record_failure(account_id: int, exc: Exception, *, next_at: datetime | None = None) -> None:
    changes = {
        "last_error": str(exc)[:2000] or exc.__class__.__name__,
        "consecutive_failures": F("consecutive_failures") + 1,
    }
    if next_at is not None:
        changes["next_sync_at"] = next_at
    SocialAccount.objects.filter(pk=account_id).update(**changes)
    SocialAccount.objects.filter(
        pk=account_id, state=State.ACTIVE, consecutive_failures__gte=ERROR_AFTER
    ).update(state=State.ERROR)


def sync_due_account_ids(*, now: datetime | None = None) -> list[int]:
    """Active accounts whose next sync is due; their ``next_sync_at`` is pushed one
    interval ahead in the same UPDATE's transaction so the next beat does not queue them
    again while their sync runs."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            SocialAccount.objects.select_for_update(skip_locked=True)
            .filter(state=State.ACTIVE)
            .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
            .values_list("pk", flat=True)
        )
        SocialAccount.objects.filter(pk__in=due).update(next_sync_at=now + sync_interval())
    return due


def sync_queue(*, account_id: int) -> str:
    """Queue one sync of the account after the current transaction commits; returns the
    Celery task id (for ``202 Accepted`` answers)."""
    from .tasks import sync_account

    task_id = uuid.uuid4().hex
    transaction.on_commit(lambda: sync_account.apply_async((account_id,), task_id=task_id))
    return task_id


# -- backfill -------------------------------------------------------------------------------


class BackfillSuperseded(Exception):
    """This message no longer continues the backfill (the sweeper handed it to another)."""


def backfill_grace() -> timedelta:
    """How long a queued backfill message has to start before the sweeper presumes it
    lost: one lease length (a running step holds the lease, so it is never swept)."""
    return lease_length()


def _backfill_send(account_id: int, task_id: str) -> None:
    from .tasks import backfill_account

    backfill_account.apply_async((account_id,), task_id=task_id)


def backfill_queue(*, account_id: int) -> str:
    """Start (or restart) the backfill of an account, e.g. right after it is connected:
    resets its progress and queues the first batch after commit (which polls first, see
    the module's docstring). Returns the task id."""
    task_id = uuid.uuid4().hex
    now = timezone.now()
    SocialAccount.objects.filter(pk=account_id).update(
        backfill_state=BackfillState.QUEUED,
        backfill_cursors={},
        backfill_pages=0,
        backfill_items=0,
        backfill_started_at=now,
        backfill_finished_at=None,
        backfill_task=task_id,
        backfill_due_at=now + backfill_grace(),
    )
    transaction.on_commit(lambda: _backfill_send(account_id, task_id))
    return task_id


def backfill_continue(*, account_id: int, task_id: str) -> str | None:
    """Hand the backfill from message ``task_id`` to a new message and send it; returns
    the new id, or None when ``task_id`` no longer holds the backfill."""
    next_id = uuid.uuid4().hex
    moved = SocialAccount.objects.filter(pk=account_id, backfill_task=task_id).update(
        backfill_task=next_id, backfill_due_at=timezone.now() + backfill_grace()
    )
    if not moved:
        return None
    _backfill_send(account_id, next_id)
    return next_id


def backfill_defer(*, account_id: int, task_id: str, until: datetime) -> None:
    """Message ``task_id`` will retry at ``until``: the sweeper leaves the backfill to it
    until then (plus the grace). ``until`` in the past hands it to the sweeper now."""
    SocialAccount.objects.filter(pk=account_id, backfill_task=task_id).update(
        backfill_due_at=until + backfill_grace() if until > timezone.now() else until
    )


def backfill_sweep_due(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Backfills that are unfinished, whose message is overdue and whose lease is free:
    each is handed to a new message id (the old one, should it still run, does nothing).
    Returns ``(account_id, task_id)`` pairs to send; the claim commits before they are
    sent, and two sweepers never claim the same account (``skip_locked``)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            SocialAccount.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=(State.ACTIVE, State.ERROR),
                backfill_state__in=(BackfillState.QUEUED, BackfillState.RUNNING),
            )
            .filter(Q(backfill_due_at__isnull=True) | Q(backfill_due_at__lte=now))
            .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
            .values_list("pk", flat=True)
        )
        claimed = [(account_id, uuid.uuid4().hex) for account_id in due]
        for account_id, task_id in claimed:
            SocialAccount.objects.filter(pk=account_id).update(
                backfill_task=task_id, backfill_due_at=now + backfill_grace()
            )
    return claimed


def backfill_step(
    *, account_id: int, page_limit: int | None = None, task_id: str | None = None
) -> bool:
    """Store one page of older history for the account; returns True when there is more.

    Preconditions: outside a transaction; takes the account's lease for the page (raises
    ``SyncBusy`` when a sync holds it). ``task_id`` is the Celery message running it:
    when the account names another, ``BackfillSuperseded`` is raised and nothing is
    done. Progress lives on the account: ``backfill_cursors`` is
    ``{stream: cursor, "done": [streams]}``, ``backfill_pages`` and ``backfill_items``
    count what was stored. The first step (state ``queued``) polls every stream from its
    cursor instead; the walk back starts with the next. A stream ends when the network
    has no more or after ``MOMENTO_BACKFILL_MAX_PAGES`` pages.
    """
    account = SocialAccount.objects.get(pk=account_id)
    if task_id is not None and account.backfill_task not in ("", task_id):
        raise BackfillSuperseded(f"backfill of account {account_id} is continued by another")
    if account.backfill_state in ("", BackfillState.DONE, BackfillState.FAILED):
        return False
    page_limit = page_limit or settings.MOMENTO_SYNC_PAGE_LIMIT
    try:
        with _leased(account_id) as token:
            if account.backfill_state == BackfillState.QUEUED:
                return _backfill_first_poll(account, token, page_limit)
            return _backfill_page(account, token, page_limit)
    except AuthError as exc:
        _needs_reconnect(account_id, exc, backfill_state=BackfillState.FAILED)
        raise


def _backfill_first_poll(account: SocialAccount, token: str, page_limit: int) -> bool:
    """Before the walk back: poll every stream from its cursor (each page committed with
    its cursor), so the forward cursors exist before the walk starts at the newest item.
    What this poll stores counts as backfilled (it was there when the account came)."""
    adapter = adapter_for(account)
    result = SyncResult(account_id=account.pk)
    _sync_streams(account, adapter, token, result, DEFAULT_MAX_PAGES, page_limit, None)
    _record_success(account, adapter, more=result.more, errors=result.errors)
    _renew(
        account.pk,
        token,
        backfill_state=BackfillState.RUNNING,
        backfill_items=F("backfill_items") + result.created,
    )
    return True


def _backfill_page(account: SocialAccount, token: str, page_limit: int) -> bool:
    account_id = account.pk
    adapter = adapter_for(account)
    state = dict(account.backfill_cursors or {})
    done = list(state.get("done") or [])
    pending = [s for s in adapter.streams if s not in done]
    if not pending:
        _renew(
            account_id,
            token,
            backfill_state=BackfillState.DONE,
            backfill_finished_at=timezone.now(),
        )
        return False
    stream = pending[0]
    per_stream = settings.MOMENTO_BACKFILL_MAX_PAGES
    pages_key = f"{stream}:pages"
    page = adapter.backfill(stream, state.get(stream), limit=page_limit)
    state[stream] = page.cursor
    state[pages_key] = int(state.get(pages_key, 0)) + 1
    if not page.has_more or not page.cursor or state[pages_key] >= per_stream:
        done.append(stream)
    state["done"] = done
    finished = len(done) == len(adapter.streams)

    def save_progress(stats: IngestStats) -> None:
        _renew(
            account_id,
            token,
            backfill_cursors=state,
            backfill_pages=F("backfill_pages") + 1,
            backfill_items=F("backfill_items") + stats.created,
            backfill_state=BackfillState.DONE if finished else BackfillState.RUNNING,
            backfill_finished_at=timezone.now() if finished else None,
        )

    ingest_interactions(
        account=account,
        items=page.items,
        failed=page.failed,
        stream=stream,
        before_commit=save_progress,
    )
    return not finished


def backfill_fail(*, account_id: int, error: str) -> None:
    """Give up on a backfill (retries exhausted); the status page shows the error."""
    SocialAccount.objects.filter(pk=account_id).update(
        backfill_state=BackfillState.FAILED, last_error=error[:2000]
    )
