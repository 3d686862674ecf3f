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

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Max, Q, QuerySet
from django.utils.dateparse import parse_datetime

from contacts.models import Contact, TimelineEntry
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
    """Inbound questions nobody has handled (the partial index ``timeline_inbox_unhandled``)."""
    return TimelineEntry.objects.filter(
        direction=Direction.INBOUND, handled_at__isnull=True, kind__in=QUESTION_KINDS
    ).exclude(network="")


@dataclass
class Conversation:
    contact_id: int
    network: str
    unread: int
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
    counts: dict[str, int] = field(default_factory=dict)


def _grouped(user: AbstractBaseUser, network: str) -> QuerySet:
    qs = _waiting()
    if network:
        qs = qs.filter(network=network)
    return (
        qs.values("contact_id", "network")
        .annotate(
            unread=Count("id"),
            mine_n=Count("id", filter=Q(assigned_to=user.pk)),
            assigned_n=Count("id", filter=Q(assigned_to__isnull=False)),
            last_at=Max("occurred_at"),
            last_id=Max("id"),
        )
        .order_by()
    )


def conversation_counts(*, user: AbstractBaseUser, network: str = "") -> dict[str, int]:
    """How many conversations wait: all, mine (an item assigned to me), unassigned."""
    counts = _grouped(user, network).aggregate(
        all=Count("contact_id"),
        mine=Count("contact_id", filter=Q(mine_n__gt=0)),
        unassigned=Count("contact_id", filter=Q(assigned_n=0)),
    )
    return {name: counts[name] or 0 for name in FILTERS}


def conversation_page(
    *,
    user: AbstractBaseUser,
    show: str = "all",
    network: str = "",
    cursor: str | None = None,
    size: int = 50,
) -> ConversationPage:
    """The waiting conversations, newest activity first, ``size`` at a time (a keyset
    cursor on the newest item's time and id). Raises ``InvalidCursor``."""
    rows = _grouped(user, network)
    if show == "mine":
        rows = rows.filter(mine_n__gt=0)
    elif show == "unassigned":
        rows = rows.filter(assigned_n=0)
    if cursor:
        last_at, last_id = decode_cursor(cursor, 2)
        at = parse_datetime(str(last_at)) if last_at else None
        if at is None or not isinstance(last_id, int):
            raise InvalidCursor("Malformed cursor.")
        rows = rows.filter(Q(last_at__lt=at) | Q(last_at=at, last_id__lt=last_id))
    rows = list(rows.order_by("-last_at", "-last_id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    latest = {
        e.pk: e
        for e in TimelineEntry.objects.filter(pk__in=[r["last_id"] for r in rows]).select_related(
            "contact", "contact__owner", "identity", "account", "assigned_to"
        )
    }
    conversations = [
        Conversation(
            contact_id=r["contact_id"],
            network=r["network"],
            unread=r["unread"],
            mine=r["mine_n"] > 0,
            assigned=r["assigned_n"] > 0,
            last_at=r["last_at"],
            latest=latest.get(r["last_id"]),
        )
        for r in rows
    ]
    next_cursor = None
    if more and rows:
        next_cursor = encode_cursor([rows[-1]["last_at"].isoformat(), rows[-1]["last_id"]])
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
    entries = list(
        TimelineEntry.objects.filter(contact=contact)
        .filter(
            Q(network=network, kind__in=QUESTION_KINDS + (EntryKind.POST,))
            | Q(kind__in=THREAD_INTERNAL_KINDS)
        )
        .select_related("identity", "account", "assigned_to", "created_by")
        .newest_first()[: THREAD_LIMIT + 1]
    )
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
    )


def conversation_version(*, contact: Contact, network: str) -> str:
    """A stamp that changes whenever the thread would look different (a new item, one
    handled, an outbox message queued or its state moved): polling draws the thread
    again only when it changes. Two queries."""
    entries = TimelineEntry.objects.filter(contact=contact).filter(
        Q(network=network) | Q(kind__in=THREAD_INTERNAL_KINDS)
    )
    e = entries.aggregate(top=Max("id"), handled=Count("id", filter=Q(handled_at__isnull=False)))
    o = OutboundMessage.objects.filter(contact=contact, account__network=network).aggregate(
        top=Max("id"),
        moved=Count("id", filter=~Q(state=OutboundMessage.State.PENDING)),
        sent=Count("id", filter=Q(state=OutboundMessage.State.SENT)),
    )
    return "-".join(str(v or 0) for v in (e["top"], e["handled"], o["top"], o["moved"], o["sent"]))


__all__ = [
    "FILTERS",
    "Conversation",
    "ConversationPage",
    "Thread",
    "conversation_contact",
    "conversation_counts",
    "conversation_page",
    "conversation_thread",
    "conversation_version",
]
