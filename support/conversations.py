"""Reads for the conversation inbox: one row per person and network (their public posts,
replies and DMs with us), and the whole thread of one conversation in order.

A conversation is waiting while it holds an inbound question nobody has handled. Each
read costs a constant number of queries however many conversations or items there are:
the list is one grouped query, one for the newest items and one for the counts; the
thread is one query for the entries, one for what is still in the outbox, one for the
contact's open ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils.dateparse import parse_datetime

from contacts.models import WAITING, Contact, TimelineEntry
from core.choices import QUESTION_KINDS, Direction, EntryKind, Network
from core.paging import InvalidCursor, decode_cursor, encode_cursor
from crm.models import OutboundMessage

from .models import ACTIVE_STATUSES, Ticket

#: The list's filters (``?show=``): everything waiting, mine, nobody's.
FILTERS = ("all", "mine", "unassigned")
#: Items of a thread shown at most (the newest; older ones are on the contact's page).
THREAD_LIMIT = 200
#: Internal kinds that belong in every thread of the contact.
THREAD_INTERNAL_KINDS = (EntryKind.NOTE, EntryKind.TICKET, EntryKind.CSAT)


def _waiting() -> QuerySet[TimelineEntry]:
    """Inbound questions nobody has handled (``contacts.models.WAITING``: the partial
    indexes ``timeline_inbox_unhandled``, ``timeline_waiting_pairs`` and
    ``timeline_waiting_assignee``)."""
    return TimelineEntry.objects.filter(WAITING)


@dataclass
class Conversation:
    contact_id: int
    network: str
    unread: BoundedCount
    mine: bool
    assigned: bool
    last_at: datetime
    latest: TimelineEntry | None = None

    @property
    def network_label(self) -> str:
        return Network(self.network).label if self.network in Network.values else self.network

    @property
    def key(self) -> str:
        return f"{self.contact_id}-{self.network}"


@dataclass
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None
    counts: dict[str, BoundedCount] = field(default_factory=dict)


#: The inbox's counts stop here: from this many conversations on they read "99+".
COUNT_CAP = 100
#: Conversations the "unassigned" count looks at, at most, for its first COUNT_CAP
#: (it skips those with an assigned item; past this it says "at least").
COUNT_STEPS = 1000


@dataclass(frozen=True)
class BoundedCount:
    """A count that is exact, or a true lower bound (``more``): shown as "12" or "99+"."""

    value: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.value}+" if self.more else str(self.value)


def _bounded(found: int, steps: int, step_cap: int) -> BoundedCount:
    if found >= COUNT_CAP:
        return BoundedCount(COUNT_CAP - 1, more=True)
    return BoundedCount(found, more=steps >= step_cap)


#: Waiting items read per step when walking the inbox index for the next conversations.
SCAN_BATCH = 1000


def _where(qs: QuerySet) -> tuple[str, list]:
    """A queryset's WHERE clause as SQL and params (its columns named by table)."""
    sql, params = qs.query.get_compiler(connection=connection).compile(qs.query.where)
    return sql, list(params)


def _stats(user: AbstractBaseUser, pairs: list[tuple[int, str]]) -> dict:
    """Per (contact, network) pair: waiting items (a BoundedCount), whether one is
    mine, whether one is assigned, the newest waiting time (of mine, of all). On
    PostgreSQL a few index probes per pair (``timeline_waiting_pairs``, and the
    contact's timeline index for the newest), so a conversation of 10,000 waiting
    items costs what one of 3 does; elsewhere one grouped query."""
    if not pairs:
        return {}
    if connection.vendor != "postgresql":
        return _stats_grouped(user, pairs)
    table = connection.ops.quote_name(TimelineEntry._meta.db_table)
    waiting, waiting_params = _where(_waiting())
    pair = f"{waiting} AND {table}.network = p.network AND {table}.contact_id = p.contact_id"
    sql = f"""
        SELECT p.contact_id, p.network,
            (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {pair} LIMIT %s) AS u),
            EXISTS (SELECT 1 FROM {table} WHERE {pair} AND {table}.assigned_to_id = %s),
            EXISTS (SELECT 1 FROM {table} WHERE {pair} AND {table}.assigned_to_id IS NOT NULL),
            (SELECT max({table}.occurred_at) FROM {table}
                WHERE {pair} AND {table}.assigned_to_id = %s),
            (SELECT {table}.occurred_at FROM {table} WHERE {pair}
                ORDER BY {table}.occurred_at DESC LIMIT 1)
        FROM unnest(%s::bigint[], %s::text[]) AS p(contact_id, network)
    """  # noqa: S608
    params = [
        *waiting_params,
        COUNT_CAP,
        *waiting_params,
        user.pk,
        *waiting_params,
        *waiting_params,
        user.pk,
        *waiting_params,
        [c for c, _n in pairs],
        [n for _c, n in pairs],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (contact_id, network): {
            "unread": _bounded(unread, 0, 1),
            "mine_n": int(mine),
            "assigned_n": int(assigned),
            "mine_at": mine_at,
            "last_at": last_at,
        }
        for contact_id, network, unread, mine, assigned, mine_at, last_at in rows
        if unread
    }


def _stats_grouped(user: AbstractBaseUser, pairs: list[tuple[int, str]]) -> dict:
    rows = (
        _waiting()
        .filter(contact_id__in={c for c, _n in pairs})
        .values("contact_id", "network")
        .annotate(
            unread=Count("id"),
            mine_n=Count("id", filter=Q(assigned_to=user.pk)),
            assigned_n=Count("id", filter=Q(assigned_to__isnull=False)),
            mine_at=Max("occurred_at", filter=Q(assigned_to=user.pk)),
            last_at=Max("occurred_at"),
        )
        .order_by()
    )
    wanted = set(pairs)
    return {
        (r["contact_id"], r["network"]): {**r, "unread": _bounded(r["unread"], 0, 1)}
        for r in rows
        if (r["contact_id"], r["network"]) in wanted
    }


def _walk_pairs(candidates: QuerySet[TimelineEntry], *, unassigned: bool) -> BoundedCount:
    """Count the (network, contact) pairs among ``candidates`` by stepping from one pair
    to the next through ``timeline_waiting_pairs`` / ``timeline_waiting_assignee`` (a
    recursive query, one index probe a step), stopping at COUNT_CAP. ``unassigned``
    counts only pairs without an assigned waiting item (each checked by one more probe),
    looking at COUNT_STEPS pairs at most. PostgreSQL."""
    where, params = _where(candidates)
    waiting_where, waiting_params = _where(_waiting())
    table = connection.ops.quote_name(TimelineEntry._meta.db_table)

    def counts(alias: str) -> tuple[str, list]:
        if not unassigned:
            return "1", []
        return (
            # Only the ORM's compiled WHERE and the table's name go in; values are params.
            f"(NOT EXISTS (SELECT 1 FROM {table} WHERE {waiting_where}"  # noqa: S608
            f" AND {table}.network = {alias}.network AND {table}.contact_id = {alias}.contact_id"
            f" AND {table}.assigned_to_id IS NOT NULL))::int",
            list(waiting_params),
        )

    first_counts, first_params = counts("first")
    next_counts, next_params = counts("nxt")
    step_cap = COUNT_STEPS if unassigned else COUNT_CAP
    sql = f"""
        WITH RECURSIVE walk(network, contact_id, n, k) AS (
            SELECT first.network, first.contact_id, 1, {first_counts}
            FROM (SELECT network, contact_id FROM {table} WHERE {where}
                  ORDER BY network, contact_id LIMIT 1) AS first
          UNION ALL
            SELECT nxt.network, nxt.contact_id, walk.n + 1, walk.k + {next_counts}
            FROM walk CROSS JOIN LATERAL (
                SELECT network, contact_id FROM {table}
                WHERE {where} AND ({table}.network, {table}.contact_id)
                    > (walk.network, walk.contact_id)
                ORDER BY network, contact_id LIMIT 1
            ) AS nxt
            WHERE walk.n < %s AND walk.k < %s
        )
        SELECT coalesce(max(k), 0), coalesce(max(n), 0) FROM walk
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*first_params, *params, *next_params, *params, step_cap, COUNT_CAP],
        )
        found, steps = cursor.fetchone()
    return _bounded(found, steps, step_cap)


def conversation_counts(*, user: AbstractBaseUser, network: str = "") -> dict[str, BoundedCount]:
    """How many conversations wait: all, mine (an item assigned to me), unassigned (no
    item assigned to anyone). Each is exact below COUNT_CAP and "99+" from there, so a
    poll of the list costs a bounded number of index probes, not a pass over every
    waiting item."""
    waiting = _waiting()
    if network:
        waiting = waiting.filter(network=network)
    if connection.vendor != "postgresql":
        # No skip scan: count them all (a laptop's SQLite inbox is small).
        def pairs(qs) -> int:
            return qs.values("contact_id", "network").distinct().count()

        everyone = pairs(waiting)
        return {
            "all": _bounded(everyone, 0, 1),
            "mine": _bounded(pairs(waiting.filter(assigned_to=user.pk)), 0, 1),
            "unassigned": _bounded(
                everyone - pairs(waiting.filter(assigned_to__isnull=False)), 0, 1
            ),
        }
    return {
        "all": _walk_pairs(waiting, unassigned=False),
        "mine": _walk_pairs(waiting.filter(assigned_to=user.pk), unassigned=False),
        "unassigned": _walk_pairs(waiting.filter(assigned_to__isnull=True), unassigned=True),
    }


def _walk(items: QuerySet[TimelineEntry], at, pk):
    """The waiting items newest first from below (at, pk), a batch at a time (the
    partial index ``timeline_inbox_unhandled``): yields (contact, network, at, id)."""
    while True:
        batch = items
        if at is not None:
            batch = batch.filter(occurred_at__lte=at).filter(
                Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=pk)
            )
        rows = list(
            batch.order_by("-occurred_at", "-id").values_list(
                "contact_id", "network", "occurred_at", "id"
            )[:SCAN_BATCH]
        )
        yield from rows
        if len(rows) < SCAN_BATCH:
            return
        at, pk = rows[-1][2], rows[-1][3]


def conversation_page(
    *,
    user: AbstractBaseUser,
    show: str = "all",
    network: str = "",
    cursor: str | None = None,
    size: int = 50,
) -> ConversationPage:
    """The waiting conversations, newest activity first, ``size`` at a time. A
    conversation's place is its newest waiting item (its newest one assigned to me for
    "mine"); the page walks the inbox index down from the cursor (that item's time and
    id) until it has found ``size`` conversations, so its cost follows the page, not the
    number of waiting items. Raises ``InvalidCursor``."""
    at = pk = after = None
    if cursor:
        raw_at, pk, contact_id, net = decode_cursor(cursor, 4)
        at = parse_datetime(str(raw_at)) if raw_at else None
        if at is None or not isinstance(pk, int) or not isinstance(contact_id, int):
            raise InvalidCursor("Malformed cursor.")
        after = (contact_id, net)
    items = _waiting()
    if network:
        items = items.filter(network=network)
    if show == "mine":
        items = items.filter(assigned_to=user.pk)
    elif show == "unassigned":
        items = items.filter(assigned_to__isnull=True)
    found: list[tuple[tuple[int, str], tuple, dict]] = []
    seen: set[tuple[int, str]] = set()
    pending: dict[tuple[int, str], tuple] = {}
    walk = _walk(items, at, pk)
    done = False
    while len(found) <= size and not done:
        for contact_id, net, item_at, item_id in walk:
            key = (contact_id, net)
            if key not in seen:
                seen.add(key)
                pending[key] = (item_at, item_id)
                if len(pending) > size - len(found):
                    break
        else:
            done = True
        if not pending:
            break
        stats = _stats(user, list(pending))
        for key, hit in pending.items():
            row = stats.get(key)
            if row is None:
                continue
            top = row["mine_at"] if show == "mine" else row["last_at"]
            if show == "unassigned" and row["assigned_n"]:
                continue
            if at is not None and top is not None and (top > at or (top == at and key == after)):
                continue  # shown on an earlier page (its newest item is above the cursor)
            found.append((key, hit, row))
        pending = {}
    more = len(found) > size
    found = found[:size]
    latest = {
        e.pk: e
        for e in TimelineEntry.objects.filter(pk__in=[hit[1] for _k, hit, _r in found])
        .select_related("contact", "identity")
        # Not read: the newest item's network payload, and its contact's search
        # documents (a joined contact skips the manager that defers them).
        .defer("raw", "text_folded", *(f"contact__{name}" for name in Contact.DOCUMENTS))
    }
    conversations = [
        Conversation(
            contact_id=key[0],
            network=key[1],
            unread=row["unread"],
            mine=row["mine_n"] > 0,
            assigned=row["assigned_n"] > 0,
            last_at=hit[0],
            latest=latest.get(hit[1]),
        )
        for key, hit, row in found
    ]
    next_cursor = None
    if more and found:
        key, hit, _row = found[-1]
        next_cursor = encode_cursor([hit[0].isoformat(), hit[1], key[0], key[1]])
    return ConversationPage(
        conversations=conversations,
        next_cursor=next_cursor,
        counts=conversation_counts(user=user, network=network),
    )


@dataclass
class Thread:
    contact: Contact
    network: str
    items: list[Any]
    #: The inbound item an answer goes to (the newest one we can answer), if any.
    answer_to: TimelineEntry | None
    waiting: list[int]
    ticket: Ticket | None
    truncated: bool
    #: ``conversation_version`` of what the pane shows.
    version: str = ""

    @property
    def network_label(self) -> str:
        return Network(self.network).label if self.network in Network.values else self.network


@dataclass
class PendingMessage:
    """An outbox message that has no timeline entry yet (queued, failed or unknown)."""

    message: OutboundMessage
    occurred_at: datetime
    pk: int
    kind: str = "outbox"


def conversation_contact(*, contact_id: int) -> Contact:
    return Contact.objects.select_related("owner").get(pk=contact_id)


def conversation_thread(*, contact: Contact, network: str) -> Thread:
    """The whole conversation with ``contact`` on ``network``, oldest first: their posts,
    replies and DMs, our sent answers, what is still in the outbox, notes and ticket
    events (the newest ``THREAD_LIMIT``)."""
    entries = _thread_items(contact, network)
    version = _version([(e.pk, e.handled_at) for e in entries], contact=contact, network=network)
    truncated = len(entries) > THREAD_LIMIT
    entries = entries[:THREAD_LIMIT]
    pending = [
        PendingMessage(message=m, occurred_at=m.created_at, pk=m.pk)
        for m in OutboundMessage.objects.filter(
            contact=contact, account__network=network, entry__isnull=True
        )
        .select_related("created_by")
        .order_by("-id")[:THREAD_LIMIT]
    ]
    items: list[Any] = sorted(
        [*entries, *pending], key=lambda item: (item.occurred_at, item.kind == "outbox", item.pk)
    )
    inbound = [e for e in entries if e.direction == Direction.INBOUND and e.network == network]
    answerable = [e for e in inbound if e.account_id is not None and e.kind in QUESTION_KINDS]
    ticket = (
        Ticket.objects.filter(contact=contact, status__in=ACTIVE_STATUSES)
        .select_related("assignee")
        .order_by("-id")
        .first()
    )
    return Thread(
        contact=contact,
        network=network,
        items=items,
        answer_to=answerable[0] if answerable else None,
        waiting=[e.pk for e in inbound if e.handled_at is None],
        ticket=ticket,
        truncated=truncated,
        version=version,
    )


def _thread_items(contact: Contact, network: str) -> list[TimelineEntry]:
    """The newest ``THREAD_LIMIT + 1`` entries of a thread as the pane draws them.

    Not joined: the account (nothing shows it, and each joined row would decrypt its
    credentials). The identity's handle is read as ``identity_handle`` (the pane shows
    nothing else of it, and no identity is built). Not read: a message's ``raw`` payload (what the network sent, often
    kilobytes) and the folded search copy; only ticket and CSAT events, which the pane
    draws from ``raw``, get theirs (one query, when there are any). The assignee's and
    author's usernames come in one query for the few entries that have one, instead of
    two user rows joined to every entry."""
    entries = list(
        _thread_entries(contact, network)
        .annotate(identity_handle=F("identity__handle"))
        .defer("raw", "text_folded")[: THREAD_LIMIT + 1]
    )
    events = [e.pk for e in entries if e.kind in (EntryKind.TICKET, EntryKind.CSAT)]
    if events:
        raw = dict(TimelineEntry.objects.filter(pk__in=events).values_list("id", "raw"))
        for entry in entries:
            if entry.pk in raw:
                entry.raw = raw[entry.pk]
    user_ids = {e.created_by_id for e in entries} | {e.assigned_to_id for e in entries}
    user_ids.discard(None)
    if user_ids:
        User = get_user_model()
        users = User.objects.only("id", User.USERNAME_FIELD).in_bulk(user_ids)
        for entry in entries:
            if entry.created_by_id in users:
                entry.created_by = users[entry.created_by_id]
            if entry.assigned_to_id in users:
                entry.assigned_to = users[entry.assigned_to_id]
    return entries


def _thread_entries(contact: Contact, network: str) -> QuerySet[TimelineEntry]:
    """A thread's timeline entries, newest first: their posts, replies and DMs on the
    network, and the contact's notes and ticket events."""
    return (
        TimelineEntry.objects.filter(contact=contact)
        .filter(
            Q(network=network, kind__in=QUESTION_KINDS + (EntryKind.POST,))
            | Q(kind__in=THREAD_INTERNAL_KINDS)
        )
        .newest_first()
    )


def _version(window: list[tuple[int, datetime | None]], *, contact: Contact, network: str) -> str:
    """The stamp of a thread whose newest ``THREAD_LIMIT + 1`` entries are ``window``
    (id, handled_at): the newest id there, how many of the shown ones are handled, and
    the outbox's figures (one query)."""
    o = OutboundMessage.objects.filter(contact=contact, account__network=network).aggregate(
        top=Max("id"),
        moved=Count("id", filter=~Q(state=OutboundMessage.State.PENDING)),
        sent=Count("id", filter=Q(state=OutboundMessage.State.SENT)),
    )
    top = max((pk for pk, _h in window), default=0)
    # Handled among the shown ones: the one more only says "older items" exist.
    handled = sum(1 for _pk, handled_at in window[:THREAD_LIMIT] if handled_at is not None)
    return "-".join(str(v or 0) for v in (top, handled, o["top"], o["moved"], o["sent"]))


def conversation_version(*, contact: Contact, network: str) -> str:
    """A stamp that changes whenever the thread would look different (a new item, one
    handled, an outbox message queued or its state moved): polling draws the thread
    again only when it changes. It reads only the entries the pane shows (the newest
    ``THREAD_LIMIT``, and one more for "older items"), so a contact of 60,000 entries
    costs what one of 60 does. Two queries."""
    window = list(
        _thread_entries(contact, network).values_list("id", "handled_at")[: THREAD_LIMIT + 1]
    )
    return _version(window, contact=contact, network=network)


__all__ = [
    "COUNT_CAP",
    "FILTERS",
    "BoundedCount",
    "Conversation",
    "ConversationPage",
    "Thread",
    "conversation_contact",
    "conversation_counts",
    "conversation_page",
    "conversation_thread",
    "conversation_version",
]
