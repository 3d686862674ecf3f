"""Store one page of normalised interactions on the right contacts' timelines.

``ingest_interactions`` is the one write path for everything that comes in from a
network: polling (crm.sync), the X webhook (crm.webhooks) and listening. A page is
stored in ONE short transaction with a fixed number of queries whatever its size, so
its items are in the inbox as soon as it commits:

1. authors are resolved to ``SocialIdentity`` rows by (network, user id) in bulk; new
   ones get a new stage-0 ``Contact``; a changed handle, name or follower count is
   updated;
2. entries are upserted on (network, external id): on PostgreSQL the page is COPYed into
   a temporary table and moved with one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (the
   engagement counts are refreshed); elsewhere (SQLite for ``make run``) through the
   ORM's bulk paths;
3. items that could not be normalised or stored are kept as ``SyncFailure`` rows, the
   account's counters move, and an ``IngestBatch`` records the page's new and refreshed
   entry ids (with the caller's cursor, in the same transaction).

Everything else is the page's follow-up (``followup``), one set-based step per page run
by a task claimed from that batch row: the contacts' search documents, their
``last_interaction_at``, the stage rules (a follow moves a stage-0 contact to stage 1),
scores, and the support app's ticket rules (``core.signals.entries_ingested``). It runs
within seconds of the commit, inline with eager Celery; the sync status page shows the
backlog.

Before all of it, items by or of people who were erased (GDPR tombstones) are dropped
and counted as "skipped: erased" (``cleaning.erased_drop``).

Text is classified (``lib.classify``) before the transaction opens, so the database is
held only for the writes.

The steps live beside this module: ``cleaning`` (validate, clean, classify),
``authors`` (step 1), ``upsert`` (steps 2 and 3) and ``followup``; ``common`` holds
``IngestStats``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction

from ..models import SocialAccount
from ..networks.base import FailedItem, Interaction
from .authors import authors_resolve
from .cleaning import clean_json, clean_text, erased_drop, rows_prepare
from .common import IngestStats
from .followup import ingest_followup_queue, ingest_page_close
from .upsert import entries_upsert, failures_store


def ingest_interactions(
    *,
    account: SocialAccount,
    items: Sequence[Interaction],
    failed: Sequence[FailedItem] = (),
    stream: str = "",
    before_commit: Callable[[IngestStats], None] | None = None,
    classify_text: bool = True,
) -> IngestStats:
    """Store one page through ``account`` (recorded as each entry's ``account``: that is
    how a staff member's personal account shows as the source) and return what it did.

    Idempotent on (network, external id): storing a page again adds nothing. Opens its
    own transaction (a savepoint inside a caller's); ``before_commit(stats)``
    runs inside it last, which is where the sync engine saves the stream's cursor so the
    cursor commits together with the page or not at all. Classification runs before the
    transaction opens (``classify_text=False`` skips it, for a caller that classifies
    elsewhere; bench/ingest.py uses it to time the storage path alone).
    """
    network = account.network
    failures = list(failed)
    stats = IngestStats(received=len(items) + len(failed))
    items, stats.skipped_erased = erased_drop(network, items, failures)
    rows = rows_prepare(items, failures, network, classify_text=classify_text)
    with transaction.atomic():
        identities = authors_resolve(network, [r.item.author for r in rows], stats)
        entries_upsert(account, rows, identities, stats)
        failures_store(account, failures, stream, stats)
        batch_id = ingest_page_close(account=account, stats=stats)
        if before_commit is not None:
            before_commit(stats)
    if batch_id is not None:
        stats.stage_changes = ingest_followup_queue(batch_id=batch_id) or 0
    return stats


__all__ = ["IngestStats", "clean_json", "clean_text", "ingest_interactions"]
