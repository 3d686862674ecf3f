"""The ticket rules for what the sync engine stored: new inbound items open or join
tickets, refreshed engagement may escalate them.

Ingest announces each stored page with ``core.signals.entries_ingested`` (inside the
page's transaction); ``support.apps`` connects that signal to
``tickets_apply_rules_for_ingested``. ``tickets_open_for_entries`` and
``tickets_escalate_for_entries`` are the same rules for entries already in hand (the
demo loader, tests)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db import transaction

from contacts.models import Contact, Stage, TimelineEntry
from core.choices import Direction, EntryKind, Intent

from ..models import ACTIVE_STATUSES, CONVERSATION_KINDS, Ticket, TicketLink
from .escalation import tickets_escalate_for_entries
from .tickets import tickets_link_bulk, tickets_open_bulk

RULE_DM = "Inbound direct message"
RULE_COMPLAINT = "Complaint from a customer"


def tickets_apply_rules_for_ingested(
    *, created_ids: Collection[int], updated_ids: Collection[int]
) -> None:
    """The ticket rules for one stored page: entries new on a timeline (``created_ids``)
    open or join tickets; entries whose engagement was refreshed (``updated_ids``) may
    escalate theirs. Runs inside the page's follow-up and lets errors through, so a
    failure rolls the follow-up back (the beat sweep runs it again)."""
    if created_ids:
        tickets_open_for_entries(
            entries=TimelineEntry.objects.filter(
                pk__in=created_ids, direction=Direction.INBOUND, kind__in=CONVERSATION_KINDS
            ).defer("raw")
        )
    if updated_ids:
        tickets_escalate_for_entries(
            entries=TimelineEntry.objects.filter(
                pk__in=updated_ids, direction=Direction.INBOUND, intent=Intent.COMPLAINT
            ).defer("raw")
        )


@transaction.atomic
def tickets_open_for_entries(*, entries: Iterable[TimelineEntry]) -> list[Ticket]:
    """The ticket rules, for newly stored timeline entries (the sync engine calls this
    after each stored page, in the page's follow-up):

    - a message from a person with an open ticket joins that ticket;
    - otherwise an inbound DM, or a complaint (``intent == "complaint"``) from a stage-2
      customer, opens a ticket;
    - complaints already past a team's virality thresholds escalate their ticket.

    Returns the tickets opened or joined. Idempotent: an entry already on a ticket is
    left alone. Locks the contacts involved so two pages cannot open two tickets."""
    fresh = [
        e
        for e in entries
        if e.direction == Direction.INBOUND and e.kind in CONVERSATION_KINDS and e.contact_id
    ]
    if not fresh:
        return []
    # Only people who already have an open ticket, or who wrote a DM or a complaint, can
    # be touched: lock just those (a sync page of mentions from strangers locks nothing).
    with_ticket = set(
        Ticket.objects.filter(
            contact_id__in={e.contact_id for e in fresh}, status__in=ACTIVE_STATUSES
        ).values_list("contact_id", flat=True)
    )
    fresh = [
        e
        for e in fresh
        if e.contact_id in with_ticket or e.kind == EntryKind.DM or e.intent == Intent.COMPLAINT
    ]
    if not fresh:
        return []
    contact_ids = sorted({e.contact_id for e in fresh})
    contacts = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=contact_ids)
        .only("id", "stage", "display_name", "language")
        .order_by("pk")
    }
    linked = set(
        TicketLink.objects.filter(entry__in=[e.pk for e in fresh]).values_list(
            "entry_id", flat=True
        )
    )
    active: dict[int, Ticket] = {}
    for ticket in Ticket.objects.filter(
        contact_id__in=contact_ids, status__in=ACTIVE_STATUSES
    ).order_by("id"):
        active[ticket.contact_id] = ticket  # the newest wins
    # Decide in memory, in the order things happened: a person's first DM (or a
    # customer's complaint) opens their ticket, what follows joins it. Then write it all
    # in a constant number of statements, whatever the size of the page.
    opens: dict[int, tuple[Contact, TimelineEntry, str]] = {}
    joins: list[tuple[Ticket | int, TimelineEntry]] = []
    for entry in sorted(fresh, key=lambda e: (e.occurred_at, e.pk)):
        if entry.pk in linked:
            continue
        ticket = active.get(entry.contact_id)
        if ticket is not None:
            joins.append((ticket, entry))
        elif entry.contact_id in opens:
            joins.append((entry.contact_id, entry))  # joins the ticket this page opens
        else:
            contact = contacts[entry.contact_id]
            if entry.kind == EntryKind.DM:
                rule = RULE_DM
            elif entry.intent == Intent.COMPLAINT and contact.stage == Stage.CUSTOMER:
                rule = RULE_COMPLAINT
            else:
                continue
            opens[entry.contact_id] = (contact, entry, rule)
    opened = dict(zip(opens, tickets_open_bulk(opens=list(opens.values())), strict=True))
    pairs = [
        (opened[target] if isinstance(target, int) else target, entry) for target, entry in joins
    ]
    tickets_link_bulk(pairs=pairs)
    touched: dict[int, Ticket] = {}
    for ticket, _entry in [*((t, None) for t in opened.values()), *pairs]:
        touched.setdefault(ticket.pk, ticket)
    tickets_escalate_for_entries(entries=fresh)
    return list(touched.values())
