"""Steps 2 and 4: upsert the page's entries on (network, external id), keep its failures.

On PostgreSQL the page is COPYed into a session-local temporary table and moved with one
``INSERT … SELECT … ON CONFLICT DO UPDATE`` (only the engagement counts change on an
entry already stored); elsewhere (SQLite, for ``make run``) through the ORM's bulk
paths. Both return the same thing: the entries created, as plain tuples.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import batched

from django.db import connection
from django.utils import timezone

from contacts.models import TimelineEntry

from ..models import SocialAccount, SyncFailure
from ..networks.base import FailedItem
from .cleaning import Row, clean_json, clean_text, fit
from .common import LOOKUP_CHUNK, IngestStats

TEMP_TABLE = "momento_ingest"
COLUMNS = (
    "contact_id",
    "kind",
    "network",
    "external_id",
    "text",
    "url",
    "direction",
    "account_id",
    "identity_id",
    "in_reply_to",
    "thread_id",
    "occurred_at",
    "raw",
    "language",
    "intent",
    "sentiment",
    "sentiment_score",
    "label_confidence",
    "like_count",
    "repost_count",
    "reply_count",
)


def row_values(account: SocialAccount, row: Row, identities: dict) -> tuple:
    """The ``COLUMNS`` of one entry, in order (what the COPY writes)."""
    item = row.item
    identity_id, contact_id = identities[item.author.external_id]
    return (
        contact_id,
        item.kind,
        item.network,
        item.external_id,
        row.text,
        row.url,
        item.direction,
        account.pk,
        identity_id,
        fit(item.in_reply_to, 512),
        fit(item.thread_id, 512),
        item.occurred_at,
        row.raw,
        row.language,
        row.intent,
        row.sentiment,
        row.score,
        row.confidence,
        max(0, min(item.like_count or 0, 2**31 - 1)),
        max(0, min(item.repost_count or 0, 2**31 - 1)),
        max(0, min(item.reply_count or 0, 2**31 - 1)),
    )


Created = tuple[int, int, str, str, datetime]  # pk, contact id, kind, direction, occurred_at


def entries_upsert(
    account: SocialAccount, rows: list[Row], identities: dict, stats: IngestStats
) -> list[Created]:
    """Store the page's entries; returns what was created (``stats`` gets the counts)."""
    if not rows:
        return []
    values = [row_values(account, row, identities) for row in rows]
    if connection.vendor == "postgresql":
        created = _upsert_postgres(values, stats)
    else:
        created = _upsert_orm(values, stats)
    stats.created = len(created)
    stats.created_ids = [c[0] for c in created]
    return created


def _upsert_postgres(values: list[tuple], stats: IngestStats) -> list[Created]:
    """COPY the page into a session-local temporary table, then one INSERT … SELECT …
    ON CONFLICT on the partial unique index (network, external_id)."""
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        # One round trip: the session's temporary table, emptied (a caller's outer
        # transaction may hold an earlier page), and the search trigger told to stand
        # aside for this page's insert: its words reach the contacts' search documents
        # in the page's follow-up.
        cursor.execute(
            f"""CREATE TEMP TABLE IF NOT EXISTS {TEMP_TABLE} (
                contact_id bigint, kind varchar(20), network varchar(16),
                external_id varchar(512), text text, url varchar(1000), direction varchar(10),
                account_id bigint, identity_id bigint, in_reply_to varchar(512),
                thread_id varchar(512), occurred_at timestamptz, raw jsonb,
                language varchar(8), intent varchar(16), sentiment varchar(16),
                sentiment_score double precision, label_confidence double precision, like_count integer, repost_count integer,
                reply_count integer
            ) ON COMMIT DELETE ROWS;
            TRUNCATE {TEMP_TABLE};
            SELECT set_config('momento.search_deferred', 'on', true)"""
        )
        with cursor.cursor.copy(f"COPY {TEMP_TABLE} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(
            f"""INSERT INTO crm_timelineentry ({columns}, created_at)
                SELECT {columns}, now() FROM {TEMP_TABLE}
                ON CONFLICT (network, external_id) WHERE NOT (external_id = '')
                DO UPDATE SET like_count = EXCLUDED.like_count,
                              repost_count = EXCLUDED.repost_count,
                              reply_count = EXCLUDED.reply_count
                WHERE (crm_timelineentry.like_count, crm_timelineentry.repost_count,
                       crm_timelineentry.reply_count)
                      IS DISTINCT FROM (EXCLUDED.like_count, EXCLUDED.repost_count,
                                        EXCLUDED.reply_count)
                RETURNING id, contact_id, kind, direction, occurred_at, (xmax = 0)"""  # noqa: S608
        )
        # The stand-aside ends in the page's closing statement (followup.ingest_page_close).
        returned = cursor.fetchall()
    created = [(r[0], r[1], r[2], r[3], r[4]) for r in returned if r[5]]
    stats.updated_ids = [r[0] for r in returned if not r[5]]
    stats.updated = len(stats.updated_ids)
    return created


def _upsert_orm(values: list[tuple], stats: IngestStats) -> list[Created]:
    """The portable path (SQLite): look up what exists, bulk-create the rest, refresh
    the engagement counts that changed."""
    by_key = {(v[2], v[3]): v for v in values}
    existing: dict[tuple[str, str], TimelineEntry] = {}
    network = values[0][2]
    for chunk in batched([v[3] for v in values], LOOKUP_CHUNK):
        for entry in TimelineEntry.objects.filter(network=network, external_id__in=chunk).only(
            "id", "network", "external_id", "like_count", "repost_count", "reply_count"
        ):
            existing[(entry.network, entry.external_id)] = entry
    changed = []
    for key, entry in existing.items():
        v = by_key[key]
        counts = (v[-3], v[-2], v[-1])  # like, repost, reply counts
        if (entry.like_count, entry.repost_count, entry.reply_count) != counts:
            entry.like_count, entry.repost_count, entry.reply_count = counts
            changed.append(entry)
    if changed:
        TimelineEntry.objects.bulk_update(
            changed, ["like_count", "repost_count", "reply_count"], batch_size=500
        )
    stats.updated = len(changed)
    stats.updated_ids = [entry.pk for entry in changed]
    new = [
        TimelineEntry(
            **{
                name: (json.loads(value) if name == "raw" else value)
                for name, value in zip(COLUMNS, v, strict=True)
            }
        )
        for key, v in by_key.items()
        if key not in existing
    ]
    TimelineEntry.objects.bulk_create(new, batch_size=500)
    return [(e.pk, e.contact_id, e.kind, e.direction, e.occurred_at) for e in new]


def failures_store(
    account: SocialAccount, failures: list[FailedItem], stream: str, stats: IngestStats
) -> None:
    """Keep what could not be stored, one ``SyncFailure`` per (account, item id);
    one seen again gets its new reason and ``last_seen``."""
    if not failures:
        return
    now = timezone.now()
    latest = {f.external_id[:512]: f for f in failures}
    known = set(
        SyncFailure.objects.filter(account=account, external_id__in=list(latest)).values_list(
            "external_id", flat=True
        )
    )
    SyncFailure.objects.bulk_create(
        [
            SyncFailure(
                account=account,
                network=account.network,
                stream=stream[:32],
                external_id=key,
                reason=clean_text(f.reason),
                raw=json.loads(clean_json(f.raw or {})),
                first_seen=now,
                last_seen=now,
            )
            for key, f in latest.items()
        ],
        update_conflicts=True,
        unique_fields=["account", "external_id"],
        update_fields=["reason", "raw", "last_seen", "stream"],
    )
    stats.failed = len(latest)
    stats.failed_new = len(latest) - len(known)
