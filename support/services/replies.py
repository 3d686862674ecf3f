"""Answering the customer on a ticket: which message a public reply answers, which DM
thread a direct message continues, who receives it, and the reply itself through the
outbox, and the first-response clock stopped when the network confirms a person's reply."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import SocialIdentity, TimelineEntry
from core.choices import Direction, EntryKind
from crm.models import OutboundMessage
from crm.outbox import outbound_queue

from ..models import PUBLIC_KINDS, Status, Ticket, TicketReply
from .sla import copy_back, save_clock, set_status, sla_plan, ticket_schedule


def ticket_public_anchor(ticket: Ticket) -> TimelineEntry | None:
    """The customer's newest public message on the ticket (what a public reply answers)."""
    return (
        TimelineEntry.objects.filter(
            ticket_link__ticket=ticket, direction=Direction.INBOUND, kind__in=PUBLIC_KINDS
        )
        .select_related("account", "identity")
        .order_by("-occurred_at", "-id")
        .first()
    )


def ticket_dm_anchor(ticket: Ticket) -> TimelineEntry | None:
    """The newest DM of the ticket's thread, ours or theirs (it carries the thread)."""
    return (
        TimelineEntry.objects.filter(kind=EntryKind.DM)
        .filter(Q(ticket_link__ticket=ticket) | Q(outbound__ticket_reply__ticket=ticket))
        .order_by("-occurred_at", "-id")
        .first()
    )


def ticket_recipient(ticket: Ticket, account) -> SocialIdentity | None:
    """The customer's identity on ``account``'s network: the ticket's, or their first."""
    if ticket.identity is not None and ticket.identity.network == account.network:
        return ticket.identity
    return ticket.contact.identities.filter(network=account.network).order_by("id").first()


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    text: str,
    kind: str = OutboundMessage.Kind.REPLY,
    user: AbstractBaseUser | None = None,
    entry: TimelineEntry | None = None,
    purpose: str = TicketReply.Purpose.REPLY,
    idempotency_key: str | None = None,
    pending: bool = False,
) -> TicketReply:
    """Answer the customer through the account that received their message: publicly
    (``kind="reply"``, to ``entry`` or the newest public message) or by DM (in the
    ticket's DM thread, or a new one). ``pending`` then waits for the customer (the
    clock pauses). The first-response clock stops only when the network confirms a
    person's answer (``ticket_reply_confirmed``)."""
    if kind == OutboundMessage.Kind.REPLY:
        target = entry or ticket_public_anchor(ticket)
        if target is None:
            raise ValidationError(
                {"kind": _("There is no public message on this ticket to answer.")}
            )
        account = target.account or ticket.account
        recipient = None
    elif kind == OutboundMessage.Kind.DM:
        account = ticket.account
        target = ticket_dm_anchor(ticket)
        recipient = ticket_recipient(ticket, account) if account else None
    else:
        raise ValidationError({"kind": _("Answer with a public reply or a direct message.")})
    if account is None:
        raise ValidationError({"kind": _("No account of ours received this conversation.")})
    message = outbound_queue(
        account=account,
        kind=kind,
        text=text,
        in_reply_to=target,
        recipient=recipient,
        contact=ticket.contact,
        user=user,
        idempotency_key=idempotency_key,
    )
    reply, _created = TicketReply.objects.get_or_create(
        message=message, defaults={"ticket": ticket, "purpose": purpose}
    )
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    changed: list[str] = []
    now = timezone.now()
    schedule = ticket_schedule(locked)
    if pending and locked.is_active:
        set_status(locked, Status.PENDING, now=now, schedule=schedule)
        changed.append("status")
    elif locked.status == Status.NEW:
        locked.status = Status.OPEN
        changed.append("status")
    save_clock(locked, *changed)
    copy_back(ticket, locked)
    return reply


@transaction.atomic
def ticket_reply_confirmed(*, message_id: int, sent_at: datetime) -> Ticket | None:
    """The network confirmed ``message_id``: if it is a person's answer on a ticket and
    the first on it confirmed, it is the first response (at ``sent_at``), and the SLA
    moves on to resolution. A failed or unknown send never gets here."""
    reply = (
        TicketReply.objects.filter(message_id=message_id, message__created_by__isnull=False)
        .only("ticket_id")
        .first()
    )
    if reply is None:
        return None
    locked = Ticket.objects.select_for_update().get(pk=reply.ticket_id)
    if locked.first_response_at is not None:
        return locked
    schedule = ticket_schedule(locked)
    locked.first_response_at = sent_at
    locked.first_response_seconds = locked.sla_elapsed(sent_at, schedule)
    sla_plan(locked, schedule)
    save_clock(locked)
    return locked
