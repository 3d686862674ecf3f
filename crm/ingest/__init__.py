"""Store one page of normalised interactions on the right contacts' timelines.

``ingest_interactions`` is the one write path for everything that comes in from a
network: polling (crm.sync), the X webhook (crm.webhooks) and listening. A page is
stored in ONE transaction with a fixed number of queries whatever its size:

1. authors are resolved to ``SocialIdentity`` rows by (network, user id) in bulk; new
   ones get a new stage-0 ``Contact``; a changed handle, name or follower count is
   updated;
2. entries are upserted on (network, external id): on PostgreSQL the page is COPYed into
   a temporary table and moved with one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (the
   engagement counts are refreshed); elsewhere (SQLite for ``make run``) through the
   ORM's bulk paths;
3. contacts' ``last_interaction_at`` moves forward, the stage rules run on the new
   entries (a follow moves a stage-0 contact to stage 1), the account's counters move;
4. items that could not be normalised or stored are kept as ``SyncFailure`` rows.

Before all of it, items by or of people who were erased (GDPR tombstones) are dropped
and counted as "skipped: erased" (``cleaning.erased_drop``).

Text is classified (``lib.classify``) before the transaction opens, so the database is
held only for the writes.

The steps live beside this module: ``cleaning`` (validate, clean, classify),
``authors`` (step 1) and ``upsert`` (steps 2 and 4); ``common`` holds ``IngestStats``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

from django.db import transaction
from django.db.models import F

from contacts.services import stage_rules_apply
from core.signals import entries_ingested

from ..models import SocialAccount
from ..networks.base import FailedItem, Interaction
from .authors import authors_resolve
from .cleaning import clean_json, clean_text, erased_drop, rows_prepare
from .common import IngestStats
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
        created = entries_upsert(account, rows, identities, stats)
        # The stage rules also move contacts' last interaction forward (one statement).
        # They read only these attributes; a model instance per entry would cost more
        # than the whole upsert.
        changes = stage_rules_apply(
            entries=[
                SimpleNamespace(
                    pk=pk, contact_id=contact_id, kind=kind, direction=direction, occurred_at=at
                )
                for pk, contact_id, kind, direction, at in created
            ]
        )
        stats.stage_changes = len(changes)
        entries_ingested.send(
            sender=SocialAccount,
            account=account,
            created_ids=stats.created_ids,
            updated_ids=stats.updated_ids,
        )
        failures_store(account, failures, stream, stats)
        SocialAccount.objects.filter(pk=account.pk).update(
            items_synced=F("items_synced") + stats.created,
            items_failed=F("items_failed") + stats.failed_new,
            items_skipped_erased=F("items_skipped_erased") + stats.skipped_erased,
        )
        if before_commit is not None:
            before_commit(stats)
    return stats


__all__ = ["IngestStats", "clean_json", "clean_text", "ingest_interactions"]
