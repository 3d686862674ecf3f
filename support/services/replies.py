"""Answering the customer on a ticket: which message a public reply answers, which DM
thread a direct message continues, who receives it, and the reply itself through the
outbox (which also stops the first-response clock)."""

from __future__ import annotations

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
    ticket's DM thread, or a new one). A person's first answer stops the first-response
    clock; ``pending`` then waits for the customer (the clock pauses)."""
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
    if user is not None and locked.first_response_at is None:
        locked.first_response_at = now
        locked.first_response_seconds = locked.sla_elapsed(now, schedule)
        sla_plan(locked, schedule)
    if pending and locked.is_active:
        set_status(locked, Status.PENDING, now=now, schedule=schedule)
        changed.append("status")
    elif locked.status == Status.NEW:
        locked.status = Status.OPEN
        changed.append("status")
    save_clock(locked, *changed)
    copy_back(ticket, locked)
    return reply
