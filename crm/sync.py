"""The sync engine: each stream of a social account (a ``SyncStream`` row) is pulled
ONE page at a time by its network adapter (``fetch_page(stream, state)``) and stored
through ``crm.ingest``.

Guarantees:

* **one page, one transaction, state included**: a page's entries, its failures, the
  account's counters and the stream's new state (forward cursor, or the catch-up walk's
  position, stop key and newest key) commit together, so the cursor never moves past
  an item that was not stored, and a walk of any length proceeds in bounded batches
  across runs and resumes after a kill anywhere from the last committed page (the upsert
  makes a repeated page add nothing);
* **the forward cursor moves past the old stop only when the gap is closed**: a
  newest-first catch-up keeps its walk on the row until it reaches the stored cursor;
  if the network runs out of pages first, the gap is recorded on the stream ("N items may
  be missing between T1 and T2") and shown, never silenced;
* **streams are independent**: each has its own error (a code and params, shown
  translated), retry time and backoff; a failing stream never stops or delays another;
* **one sync of an account at a time**: a lease on the account row, claimed by an
  ``UPDATE … WHERE lease expired`` (works on PostgreSQL and SQLite), renewed in every
  page's transaction and released at the end; a worker killed mid-sync loses the lease
  when it expires (``MOMENTO_SYNC_LEASE_SECONDS``). Rejected credentials mark the
  account ``needs_reconnect`` (they are the account's, not a stream's).

A stream without a cursor starts from the history the network serves (at most
``MOMENTO_BACKFILL_MAX_PAGES`` pages, said on the status page), so the backfill is the
first poll of each stream: ``backfill_step`` runs one page of each stream.
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
from .models import BackfillState, SocialAccount, SyncStream
from .networks import adapter_class, adapter_for
from .networks.base import (
    AuthError,
    InvalidRequest,
    NetworkAdapter,
    NetworkError,
    Page,
    RateLimited,
    StreamState,
)

State = SocialAccount.State

#: Failures in a row (of every stream) after which an account shows as ``error``.
ERROR_AFTER = 5
#: A stream's backoff after transient errors: MOMENTO_SYNC_BACKOFF_SECONDS (30 s)
#: doubling, capped at an hour.
BACKOFF_MAX = 3600


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
class StreamOutcome:
    """What one run did for one stream."""

    pages: int = 0
    created: int = 0
    more: bool = False
    #: "" when it synced; else the error's code (``waiting`` when its retry time has not
    #: come yet), with ``error`` the English reason for logs.
    code: str = ""
    error: str = ""


@dataclass
class SyncResult:
    account_id: int
    pages: int = 0
    created: int = 0
    failed: int = 0
    more: bool = False
    skipped: str = ""
    #: Items created per stream.
    streams: dict[str, int] = field(default_factory=dict)
    #: Streams that failed this run (stream → English reason, for logs).
    errors: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, StreamOutcome] = field(default_factory=dict)


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


def page_size(adapter: NetworkAdapter) -> int:
    """Items asked for per page: the network's largest page unless
    ``MOMENTO_SYNC_PAGE_SIZE`` asks for fewer."""
    configured = settings.MOMENTO_SYNC_PAGE_SIZE
    return min(configured, adapter.max_page) if configured else adapter.max_page


def stream_backoff(failures: int) -> timedelta:
    """30 s, 1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure in a row, at most an hour
    (the first wait is ``MOMENTO_SYNC_BACKOFF_SECONDS``)."""
    first = settings.MOMENTO_SYNC_BACKOFF_SECONDS
    return timedelta(seconds=min(first * 2 ** max(0, failures - 1), BACKOFF_MAX))


def streams_for(account: SocialAccount, adapter: NetworkAdapter) -> list[SyncStream]:
    """The account's stream rows in the adapter's order, created when missing."""
    rows = {s.name: s for s in SyncStream.objects.filter(account=account)}
    missing = [SyncStream(account=account, name=n) for n in adapter.streams if n not in rows]
    if missing:
        SyncStream.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {s.name: s for s in SyncStream.objects.filter(account=account)}
    return [rows[n] for n in adapter.streams]


def _state_of(row: SyncStream) -> StreamState:
    return StreamState(
        cursor=row.cursor,
        cursor_at=row.cursor_at,
        walking=row.walking,
        position=row.walk_position,
        stop=row.walk_stop,
        top=row.walk_top,
        top_at=row.walk_top_at,
        oldest_at=row.walk_oldest_at,
        pages=row.walk_pages,
        history_pages=settings.MOMENTO_BACKFILL_MAX_PAGES,
    )


def _row_changes(state: StreamState, page: Page, *, now: datetime) -> dict:
    """The stream row's fields after ``page`` (saved in the page's transaction)."""
    new = page.state
    changes = {
        "cursor": new.cursor,
        "cursor_at": new.cursor_at,
        "walking": new.walking,
        "walk_position": new.position,
        "walk_stop": new.stop,
        "walk_top": new.top,
        "walk_top_at": new.top_at,
        "walk_oldest_at": new.oldest_at,
        "walk_pages": new.pages,
        "status": SyncStream.Status.CATCHING_UP
        if new.walking or page.more
        else SyncStream.Status.OK,
        "error_code": "",
        "error_params": {},
        "failures": 0,
        "retry_at": None,
        "last_synced_at": now,
    }
    if new.walking and not state.walking:
        changes["walk_started_at"] = now
    if page.gap is not None:
        changes.update(
            gap_since=page.gap.since,
            gap_until=page.gap.until,
            gap_count=page.gap.count,
            gap_found_at=now,
        )
    if page.history_limited:
        changes["history_limited_at"] = now
    return changes


def _in_first_poll(state: StreamState) -> bool:
    return (state.walking and not state.stop) or (not state.walking and not state.cursor)


def sync_account_run(
    *,
    account_id: int,
    max_pages: int | None = None,
    page_limit: int | None = None,
    progress: Callable[[str, Page, IngestStats], None] | None = None,
) -> SyncResult:
    """Sync every stream of one account from its stored state, at most ``max_pages``
    pages per stream (``MOMENTO_SYNC_WALK_PAGES``), ``page_limit`` items a page (the
    network's largest page, or ``MOMENTO_SYNC_PAGE_SIZE``). ``result.more`` says whether
    a stream has more now; ``result.outcomes`` what each stream did.

    Preconditions: call it outside any transaction (each page commits on its own). It
    claims the account's lease and raises ``SyncBusy`` when another run holds it.
    Raises ``SocialAccount.DoesNotExist`` for a missing account. A paused account or one
    that needs reconnecting is skipped (``result.skipped``). A stream's network error is
    recorded on its row and does not stop the others: ``RateLimited`` retries that
    stream at the network's reset time, ``TransientError`` with backoff,
    ``InvalidRequest`` at the next sync; ``result.errors`` names the failed streams.
    ``AuthError`` marks the account ``needs_reconnect`` and is re-raised.
    """
    account = SocialAccount.objects.get(pk=account_id)
    result = SyncResult(account_id=account_id)
    if account.state in (State.PAUSED, State.NEEDS_RECONNECT):
        result.skipped = account.get_state_display()
        return result
    max_pages = max_pages or settings.MOMENTO_SYNC_WALK_PAGES
    try:
        with _leased(account_id) as token:
            adapter = adapter_for(account)
            limit = page_limit or page_size(adapter)
            rows = streams_for(account, adapter)
            for row in rows:
                result.outcomes[row.name] = _sync_stream(
                    account, adapter, token, row, result, max_pages, limit, progress
                )
            _record_success(account, adapter, result)
    except AuthError as exc:
        _needs_reconnect(account_id, exc)
        raise
    return result


def _sync_stream(
    account, adapter, token, row, result, max_pages, page_limit, progress
) -> StreamOutcome:
    """Within the lease: one stream, page by page, each page committed with its state."""
    outcome = StreamOutcome()
    result.streams[row.name] = 0
    now = timezone.now()
    if row.retry_at is not None and row.retry_at > now:
        outcome.code = "waiting"
        outcome.more = True
        return outcome
    state = _state_of(row)
    while outcome.pages < max_pages:
        try:
            page = adapter.fetch_page(row.name, state, limit=page_limit)
        except AuthError:
            raise
        except NetworkError as exc:
            _stream_failed(row, exc)
            outcome.code, outcome.error = exc.code, str(exc)
            result.errors[row.name] = str(exc)
            return outcome
        changes = _row_changes(state, page, now=timezone.now())
        first_poll = _in_first_poll(state)

        def save_state(stats: IngestStats, changes=changes, first_poll=first_poll) -> None:
            backfill = (
                {
                    "backfill_pages": F("backfill_pages") + 1,
                    "backfill_items": F("backfill_items") + stats.created,
                }
                if first_poll
                else {}
            )
            _renew(account.pk, token, **backfill)
            SyncStream.objects.filter(pk=row.pk).update(
                items_stored=F("items_stored") + stats.created,
                pages_read=F("pages_read") + 1,
                **changes,
            )

        stats = ingest_interactions(
            account=account,
            items=page.items,
            failed=page.failed,
            stream=row.name,
            before_commit=save_state,
        )
        state = page.state
        outcome.pages += 1
        outcome.created += stats.created
        result.pages += 1
        result.created += stats.created
        result.failed += stats.failed
        result.streams[row.name] += stats.created
        if progress is not None:
            progress(row.name, page, stats)
        if not page.more:
            break
    else:
        outcome.more = True
        result.more = True
    return outcome


def _stream_failed(row: SyncStream, exc: NetworkError) -> None:
    """Record a stream's failure on its row: its code and params (shown translated),
    and when to try it again."""
    now = timezone.now()
    failures = row.failures + 1
    if isinstance(exc, RateLimited):
        retry_at, status = exc.reset_at, SyncStream.Status.RETRYING
    elif isinstance(exc, InvalidRequest):
        retry_at, status = None, SyncStream.Status.FAILED
    else:
        retry_at, status = now + stream_backoff(failures), SyncStream.Status.RETRYING
    SyncStream.objects.filter(pk=row.pk).update(
        status=status,
        error_code=exc.code[:32],
        error_params=_json_params(exc.params),
        failures=failures,
        retry_at=retry_at,
    )


def _json_params(params: dict) -> dict:
    return {str(k): v if isinstance(v, int | float | str) else str(v) for k, v in params.items()}


def _record_success(account: SocialAccount, adapter: NetworkAdapter, result: SyncResult) -> None:
    """After a run: the account's summary of its streams. The account's next sync is
    now when a stream has more, else at the next interval or a failed stream's retry
    time, whichever is first; it shows ``error`` only when every stream failed
    ``ERROR_AFTER`` times in a row."""
    now = timezone.now()
    rows = list(SyncStream.objects.filter(account=account).order_by("id"))
    failing = [r for r in rows if r.error_code]
    next_at = now + sync_interval()
    retries = [r.retry_at for r in failing if r.retry_at is not None]
    if result.more:
        next_at = now
    elif retries:
        next_at = max(now, min([next_at, *retries]))
    all_failed = bool(rows) and len(failing) == len(rows)
    changes = {
        "last_synced_at": now,
        # Account-level errors only (credentials); each stream shows its own.
        "last_error": "",
        "consecutive_failures": min(r.failures for r in rows) if all_failed else 0,
        "next_sync_at": next_at,
    }
    if all_failed and min(r.failures for r in rows) >= ERROR_AFTER:
        changes["state"] = State.ERROR
    elif account.state == State.ERROR:
        changes["state"] = State.ACTIVE
    if account.backfill_state in (BackfillState.QUEUED, BackfillState.RUNNING):
        first_polls = [r for r in rows if (r.walking and not r.walk_stop) or r.status == "new"]
        if not first_polls:
            changes.update(backfill_state=BackfillState.DONE, backfill_finished_at=now)
        else:
            changes["backfill_state"] = BackfillState.RUNNING
    fresh = adapter.updated_credentials()
    if fresh:
        account.credentials = fresh
        account.save(update_fields=["credentials", "updated_at"])
    SocialAccount.objects.filter(pk=account.pk).update(**changes)


def streams_resume_due(*, now: datetime | None = None) -> list[int]:
    """Ids of the active accounts with a stream whose work is unfinished (a catch-up
    walk under way, or a failed stream waiting to retry) and due (its retry time has
    passed) and whose lease is free or expired: what a sweeper queues ``sync_account``
    for, whatever happened to the task that was doing the work."""
    now = now or timezone.now()
    return list(
        SyncStream.objects.filter(Q(walking=True) | Q(status=SyncStream.Status.RETRYING))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .filter(account__state=State.ACTIVE)
        .filter(Q(account__sync_lease_until__isnull=True) | Q(account__sync_lease_until__lt=now))
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )


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


def backfill_queue(*, account_id: int) -> str:
    """Start the backfill of an account, e.g. right after it is connected: the first
    poll of each stream reads the history the network serves. Resets the progress shown
    on the status page and queues the first batch after commit. Returns the task id."""
    from .tasks import backfill_account

    SocialAccount.objects.filter(pk=account_id).update(
        backfill_state=BackfillState.QUEUED,
        backfill_pages=0,
        backfill_items=0,
        backfill_started_at=timezone.now(),
        backfill_finished_at=None,
    )
    task_id = uuid.uuid4().hex
    transaction.on_commit(lambda: backfill_account.apply_async((account_id,), task_id=task_id))
    return task_id


def backfill_step(*, account_id: int, page_limit: int | None = None) -> bool:
    """One bounded batch of the account's first polls (one page of each stream); returns
    True while a stream has more. The progress is the streams' state (each page commits
    with it), so a killed batch resumes where it stopped.

    Preconditions: outside a transaction; takes the account's lease (raises
    ``SyncBusy`` when a sync holds it)."""
    account = SocialAccount.objects.get(pk=account_id)
    if account.backfill_state in ("", BackfillState.DONE, BackfillState.FAILED):
        return False
    try:
        result = sync_account_run(account_id=account_id, max_pages=1, page_limit=page_limit)
    except AuthError:
        SocialAccount.objects.filter(pk=account_id).update(backfill_state=BackfillState.FAILED)
        raise
    if result.skipped:
        return False
    return result.more


def backfill_fail(*, account_id: int, error: str) -> None:
    """Give up on a backfill (retries exhausted); the status page shows the error."""
    SocialAccount.objects.filter(pk=account_id).update(
        backfill_state=BackfillState.FAILED, last_error=error[:2000]
    )
