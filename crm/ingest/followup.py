"""What follows a stored page, as one set-based step per page: search documents, the
contacts' touch, stage rules, scores and (through ``core.signals.entries_ingested``)
the support app's ticket rules.

The page's transaction writes an ``IngestBatch`` with the ids it created or refreshed;
``ingest_followup_run`` locks that row (``SKIP LOCKED``: a batch another worker holds
is left to it), does the work and sets ``done_at`` in ONE transaction. A worker killed
anywhere rolls back and releases the lock, and the beat sweep (``ingest_followups_due``)
re-queues the batch, so nothing is lost and nothing is done twice. With eager Celery
(tests, ``CELERY_TASK_ALWAYS_EAGER``) the follow-up runs inline as soon as the page is
stored, so callers see the ticket and the stage change at once."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import TimelineEntry
from contacts.services import contacts_activity_append, stage_rules_apply
from core.signals import entries_ingested

from ..models import IngestBatch, SocialAccount
from .common import IngestStats

#: A batch still undone this long after its page is re-queued by the beat sweep (its
#: first task was lost, or its worker was killed). A follow-up takes well under this.
FOLLOWUP_GRACE = timedelta(seconds=30)


def ingest_page_close(*, account: SocialAccount, stats: IngestStats) -> int | None:
    """The page's bookkeeping, inside its transaction: the account's counters move and
    the page's durable to-do (an ``IngestBatch`` with the ids it created or refreshed)
    is written; returns the batch's id (None when the page stored nothing new and
    refreshed nothing). On PostgreSQL it is one statement, which also ends the search
    triggers' stand-aside that the upsert began (``momento.search_deferred``)."""
    wanted = bool(stats.created_ids or stats.updated_ids)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH search AS (SELECT set_config('momento.search_deferred', 'off', true) AS v),
                counters AS (
                  UPDATE crm_socialaccount
                     SET items_synced = items_synced + %s, items_failed = items_failed + %s,
                         items_skipped_erased = items_skipped_erased + %s
                   WHERE id = %s
                )
                INSERT INTO crm_ingestbatch (account_id, created_ids, updated_ids, created_at)
                SELECT %s, %s, %s, now() FROM search WHERE %s AND search.v = 'off'
                RETURNING id
                """,
                [
                    stats.created,
                    stats.failed_new,
                    stats.skipped_erased,
                    account.pk,
                    account.pk,
                    json.dumps(stats.created_ids),
                    json.dumps(stats.updated_ids),
                    wanted,
                ],
            )
            row = cursor.fetchone()
        return row[0] if row else None
    SocialAccount.objects.filter(pk=account.pk).update(
        items_synced=F("items_synced") + stats.created,
        items_failed=F("items_failed") + stats.failed_new,
        items_skipped_erased=F("items_skipped_erased") + stats.skipped_erased,
    )
    if not wanted:
        return None
    return IngestBatch.objects.create(
        account=account, created_ids=stats.created_ids, updated_ids=stats.updated_ids
    ).pk


def ingest_followup_queue(*, batch_id: int) -> int | None:
    """Start the batch's follow-up: inline with eager Celery (returns the stage changes
    made), otherwise by a task queued when the page commits (returns None)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ingest_followup_run(batch_id=batch_id)
    from ..tasks import ingest_followup

    transaction.on_commit(lambda: ingest_followup.delay(batch_id), robust=True)
    return None


def ingest_followup_run(*, batch_id: int) -> int | None:
    """Run one batch's follow-up if it is still undone and no one else holds it. Returns
    the number of stage changes made, or None when there was nothing to do."""
    with transaction.atomic():
        # Lock the batch row only (``of``): a join's FOR UPDATE would lock the account
        # too, and SKIP LOCKED would then pass over the batch whenever the sync's next
        # page holds its account row (every page updates it), leaving the page to the
        # beat sweep's grace, ~30 s late.
        batch = (
            IngestBatch.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=batch_id, done_at=None)
            .select_related("account")
            .first()
        )
        if batch is None:
            return None
        created = list(
            TimelineEntry.objects.filter(pk__in=batch.created_ids).values_list(
                "pk", "contact_id", "kind", "direction", "occurred_at"
            )
        )
        # They read only these attributes; a model instance per entry would cost more
        # than the rules.
        entries = [
            SimpleNamespace(
                pk=pk, contact_id=contact_id, kind=kind, direction=direction, occurred_at=at
            )
            for pk, contact_id, kind, direction, at in created
        ]
        # One update of each contact: last interaction and search document together.
        contacts_activity_append(entries=entries)
        # The stage rules also queue the contacts' score refresh.
        changes = stage_rules_apply(entries=entries, touch=False)
        entries_ingested.send(
            sender=SocialAccount,
            account=batch.account,
            created_ids=[row[0] for row in created],
            updated_ids=list(batch.updated_ids),
        )
        IngestBatch.objects.filter(pk=batch.pk).update(done_at=timezone.now())
    return len(changes)


def ingest_followups_due(*, now=None, limit: int = 500) -> list[int]:
    """Batches left undone past ``FOLLOWUP_GRACE`` (the beat sweep queues each again)."""
    now = now or timezone.now()
    return list(
        IngestBatch.objects.filter(done_at=None, created_at__lt=now - FOLLOWUP_GRACE)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
