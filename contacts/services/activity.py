"""What follows new activity on contacts: each one's last interaction moves forward and
its lead score is refreshed (by a task, after commit). Stages, purchases and merges call
these; they call nothing else in the services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction

from contacts.models import Contact, TimelineEntry


def contacts_score_refresh_on_commit(*, contact_ids: Iterable[int]) -> None:
    """Queue a score refresh of these contacts once the transaction commits."""
    from contacts.tasks import contacts_score_refresh_task

    ids = sorted(set(contact_ids))
    if ids:
        # A score is worth a refresh, not a failed request: robust logs a broker error.
        transaction.on_commit(lambda: contacts_score_refresh_task.delay(ids), robust=True)


def contacts_touch(*, entries: Iterable[TimelineEntry]) -> None:
    """Move each contact's ``last_interaction_at`` forward to its newest social entry."""
    newest: dict[int, datetime] = {}
    for entry in entries:
        if entry.kind in TimelineEntry.BOOKKEEPING_KINDS:
            continue
        if entry.contact_id and (
            entry.contact_id not in newest or entry.occurred_at > newest[entry.contact_id]
        ):
            newest[entry.contact_id] = entry.occurred_at
    if not newest:
        return
    # One statement for a whole sync page (PostgreSQL), or one lookup and one bulk
    # update per 500 contacts elsewhere: never a query per contact.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE contacts_contact AS c SET last_interaction_at = v.t
                   FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t)
                   WHERE c.id = v.id
                     AND (c.last_interaction_at IS NULL OR c.last_interaction_at < v.t)""",
                [list(newest), list(newest.values())],
            )
        return
    ids = list(newest)
    stale = []
    for start in range(0, len(ids), 500):
        for contact in Contact.objects.filter(pk__in=ids[start : start + 500]).only(
            "id", "last_interaction_at"
        ):
            when = newest[contact.pk]
            if contact.last_interaction_at is None or contact.last_interaction_at < when:
                contact.last_interaction_at = when
                stale.append(contact)
    Contact.objects.bulk_update(stale, ["last_interaction_at"], batch_size=500)


def contacts_activity_append(*, entries: Iterable) -> None:
    """What newly stored timeline entries do to their contacts, in one update of each
    contact: ``last_interaction_at`` moves forward (as ``contacts_touch``) and, on
    PostgreSQL, the entries' words join the contact's search document (ingest defers
    the insert trigger for its pages and calls this from the page's follow-up; search
    elsewhere reads the timeline itself). ``entries``: ``TimelineEntry`` objects or
    anything with their ``pk``, ``contact_id``, ``kind`` and ``occurred_at``. Appending
    words already there changes nothing, so a repeated follow-up is harmless."""
    entries = list(entries)
    if connection.vendor != "postgresql":
        contacts_touch(entries=entries)
        return
    ids = sorted({e.pk for e in entries if e.contact_id})
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT contacts_activity_append(%s::bigint[], %s::text[])",
                [ids, sorted(TimelineEntry.BOOKKEEPING_KINDS)],
            )
