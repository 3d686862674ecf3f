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

Text is classified (``lib.classify``) before the transaction opens, so the database is
held only for the writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import Contact, SocialIdentity, TimelineEntry
from contacts.services import stage_rules_apply
from core.choices import Direction
from core.signals import entries_ingested
from lib.classify import classify

from .models import SocialAccount, SyncFailure
from .networks.base import Author, FailedItem, Interaction

#: Kinds an adapter may hand in.
INGEST_KINDS = frozenset({"mention", "reply", "quote", "follow", "like", "repost", "dm", "post"})
#: Lookups by ``IN (...)`` are split so SQLite's parameter limit is never reached.
LOOKUP_CHUNK = 900

_TEMP = "momento_ingest"
_COLUMNS = (
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
    "like_count",
    "repost_count",
    "reply_count",
)
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


@dataclass
class IngestStats:
    """What one page did. ``created`` entries are new on a timeline; ``updated`` were
    already stored (their engagement counts refreshed); ``failed`` items were kept as
    ``SyncFailure`` (``failed_new`` of them for the first time)."""

    received: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    failed_new: int = 0
    new_contacts: int = 0
    stage_changes: int = 0
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)


# -- cleaning ---------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Text PostgreSQL can store: lone surrogates (``"\\ud800"``) and NUL become U+FFFD;
    everything else (RTL marks, emoji, markup) is kept as it is."""
    if not value:
        return ""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value


def clean_json(raw: object) -> str:
    """A payload as JSON text that PostgreSQL's ``jsonb`` accepts."""
    text = json.dumps(raw, ensure_ascii=False, default=str, separators=(",", ":"))
    text = clean_text(text)
    if "\\u0000" in text:
        text = _NUL_ESCAPE.sub(r"\1\\ufffd", text)
    return text


def _fit(value: str, size: int) -> str:
    return clean_text(value or "")[:size]


@dataclass
class _Row:
    item: Interaction
    text: str
    url: str
    raw: str
    language: str = ""
    intent: str = ""
    sentiment: str = ""
    score: float | None = None


def _prepare(
    items: Iterable[Interaction], failed: list[FailedItem], network: str, *, classify_text: bool
) -> list[_Row]:
    """Validate, clean, de-duplicate and classify. Bad items join ``failed``."""
    rows: dict[str, _Row] = {}
    for item in items:
        reason = ""
        if item.network != network:
            reason = f"item from network {item.network!r} on a {network} account"
        elif not item.external_id or len(item.external_id) > 512:
            reason = "missing or over-long item id"
        elif item.kind not in INGEST_KINDS:
            reason = f"unknown kind {item.kind!r}"
        elif item.direction not in (Direction.INBOUND, Direction.OUTBOUND):
            reason = f"unknown direction {item.direction!r}"
        elif not item.author.external_id or len(item.author.external_id) > 255:
            reason = "missing or over-long author id"
        elif not isinstance(item.occurred_at, datetime) or item.occurred_at.tzinfo is None:
            reason = "occurred_at is not an aware datetime"
        if reason:
            failed.append(
                FailedItem(item.external_id[:512] or "?", reason, {"repr": repr(item)[:4000]})
            )
            continue
        url = clean_text(item.url or "")
        rows[item.external_id] = _Row(
            item=item,
            text=clean_text(item.text or ""),
            url=url if len(url) <= 1000 else "",
            raw=clean_json(item.raw or {}),
        )
    for row in rows.values():
        if classify_text and row.text and row.item.direction == Direction.INBOUND:
            result = classify(row.text)
            row.language, row.intent = result.language, result.intent
            row.sentiment, row.score = result.sentiment, result.score
    return list(rows.values())


# -- the write path -----------------------------------------------------------------------


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
    rows = _prepare(items, failures, network, classify_text=classify_text)
    stats = IngestStats(received=len(items) + len(failed))
    with transaction.atomic():
        identities = _resolve_authors(network, [r.item.author for r in rows], stats)
        created = _upsert_entries(account, rows, identities, stats)
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
        _store_failures(account, failures, stream, stats)
        SocialAccount.objects.filter(pk=account.pk).update(
            items_synced=F("items_synced") + stats.created,
            items_failed=F("items_failed") + stats.failed_new,
        )
        if before_commit is not None:
            before_commit(stats)
    return stats


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _resolve_authors(
    network: str, authors: list[Author], stats: IngestStats
) -> dict[str, tuple[int, int]]:
    """Map author id → (identity id, contact id), creating what is missing."""
    latest: dict[str, Author] = {}
    for author in authors:
        latest[author.external_id] = author
    if not latest:
        return {}
    found: dict[str, tuple[int, int]] = {}
    changed: list[SocialIdentity] = []
    fields = ("handle", "display_name", "follower_count", "profile_url", "avatar_url")
    for chunk in _chunks(list(latest)):
        # Plain tuples: a model instance per known author would cost more than the query.
        for pk, external_id, contact_id, *stored in SocialIdentity.objects.filter(
            network=network, external_id__in=chunk
        ).values_list("id", "external_id", "contact_id", *fields):
            found[external_id] = (pk, contact_id)
            wanted = _identity_values(latest[external_id])
            if wanted["follower_count"] is None:
                wanted["follower_count"] = stored[2]
            if tuple(stored) != tuple(wanted[name] for name in fields):
                changed.append(SocialIdentity(pk=pk, **wanted))
    if changed:
        SocialIdentity.objects.bulk_update(changed, fields, batch_size=500)

    missing = [latest[key] for key in latest if key not in found]
    if missing:
        contacts = Contact.objects.bulk_create(
            [Contact(display_name=_fit(a.display_name or a.handle, 200)) for a in missing],
            batch_size=1000,
        )
        SocialIdentity.objects.bulk_create(
            [
                SocialIdentity(
                    contact_id=contact.pk,
                    network=network,
                    external_id=a.external_id,
                    **_identity_values(a),
                )
                for a, contact in zip(missing, contacts, strict=True)
            ],
            batch_size=1000,
            ignore_conflicts=True,  # another sync may have created the same author meanwhile
        )
        ids = [a.external_id for a in missing]
        for chunk in _chunks(ids):
            for pk, external_id, contact_id in SocialIdentity.objects.filter(
                network=network, external_id__in=chunk
            ).values_list("pk", "external_id", "contact_id"):
                found[external_id] = (pk, contact_id)
        used = {contact_id for _, contact_id in found.values()}
        orphans = [c.pk for c in contacts if c.pk not in used]
        if orphans:
            Contact.objects.filter(pk__in=orphans).delete()
        stats.new_contacts = len(contacts) - len(orphans)
    return found


def _identity_values(author: Author) -> dict:
    profile = clean_text(author.profile_url or "")
    avatar = clean_text(author.avatar_url or "")
    return {
        "handle": _fit(author.handle or author.external_id, 255),
        "display_name": _fit(author.display_name, 200),
        "follower_count": author.follower_count
        if author.follower_count is not None and author.follower_count >= 0
        else None,
        "profile_url": profile if len(profile) <= 500 else "",
        "avatar_url": avatar if len(avatar) <= 1000 else "",
    }


def _values(account: SocialAccount, row: _Row, identities: dict) -> tuple:
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
        _fit(item.in_reply_to, 512),
        _fit(item.thread_id, 512),
        item.occurred_at,
        row.raw,
        row.language,
        row.intent,
        row.sentiment,
        row.score,
        max(0, min(item.like_count or 0, 2**31 - 1)),
        max(0, min(item.repost_count or 0, 2**31 - 1)),
        max(0, min(item.reply_count or 0, 2**31 - 1)),
    )


Created = tuple[int, int, str, str, datetime]  # pk, contact id, kind, direction, occurred_at


def _upsert_entries(
    account: SocialAccount, rows: list[_Row], identities: dict, stats: IngestStats
) -> list[Created]:
    if not rows:
        return []
    values = [_values(account, row, identities) for row in rows]
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
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TEMP TABLE IF NOT EXISTS {_TEMP} (
                contact_id bigint, kind varchar(20), network varchar(16),
                external_id varchar(512), text text, url varchar(1000), direction varchar(10),
                account_id bigint, identity_id bigint, in_reply_to varchar(512),
                thread_id varchar(512), occurred_at timestamptz, raw jsonb,
                language varchar(8), intent varchar(16), sentiment varchar(16),
                sentiment_score double precision, like_count integer, repost_count integer,
                reply_count integer
            ) ON COMMIT DELETE ROWS"""
        )
        cursor.execute(f"TRUNCATE {_TEMP}")
        with cursor.cursor.copy(f"COPY {_TEMP} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.execute(
            f"""INSERT INTO crm_timelineentry ({columns}, created_at)
                SELECT {columns}, now() FROM {_TEMP}
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
    for chunk in _chunks([v[3] for v in values]):
        for entry in TimelineEntry.objects.filter(network=network, external_id__in=chunk).only(
            "id", "network", "external_id", "like_count", "repost_count", "reply_count"
        ):
            existing[(entry.network, entry.external_id)] = entry
    changed = []
    for key, entry in existing.items():
        v = by_key[key]
        counts = (v[17], v[18], v[19])
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
                for name, value in zip(_COLUMNS, v, strict=True)
            }
        )
        for key, v in by_key.items()
        if key not in existing
    ]
    TimelineEntry.objects.bulk_create(new, batch_size=500)
    return [(e.pk, e.contact_id, e.kind, e.direction, e.occurred_at) for e in new]


def _store_failures(
    account: SocialAccount, failures: list[FailedItem], stream: str, stats: IngestStats
) -> None:
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


__all__ = ["IngestStats", "clean_json", "clean_text", "ingest_interactions"]
