"""Public → private: a short public acknowledgement of the complaint and a DM to its
author, in one action, sent once per complaint."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import OutboundMessage
from crm.outbox import outbound_key, system_key

from ..models import CannedResponse, Ticket, TicketReply
from .canned import canned_text
from .events import ticket_event
from .replies import ticket_public_anchor, ticket_reply


@transaction.atomic
def ticket_handoff(
    *, ticket: Ticket, user: AbstractBaseUser, public_text: str = "", dm_text: str = ""
) -> tuple[TicketReply, TicketReply]:
    """Public → private in one action: a short public acknowledgement in reply to the
    complaint and a DM to its author, both on this ticket. The SLA clock keeps running.
    Sent once per complaint: repeating the action returns the same two messages."""
    complaint = ticket_public_anchor(ticket)
    if complaint is None:
        raise ValidationError({"kind": _("There is no public message on this ticket to answer.")})
    key = f"ticket-{ticket.pk}-handoff-{complaint.pk}"
    public_key, dm_key = system_key(f"{key}-public"), system_key(f"{key}-dm")
    repeated = TicketReply.objects.filter(
        message__idempotency_key=outbound_key(public_key, user=user)
    ).exists()
    public = ticket_reply(
        ticket=ticket,
        kind=OutboundMessage.Kind.REPLY,
        entry=complaint,
        text=public_text or canned_text(ticket, CannedResponse.Purpose.HANDOFF_PUBLIC, user=user),
        user=user,
        purpose=TicketReply.Purpose.HANDOFF_PUBLIC,
        idempotency_key=public_key,
    )
    dm = ticket_reply(
        ticket=ticket,
        kind=OutboundMessage.Kind.DM,
        text=dm_text or canned_text(ticket, CannedResponse.Purpose.HANDOFF_DM, user=user),
        user=user,
        purpose=TicketReply.Purpose.HANDOFF_DM,
        idempotency_key=dm_key,
    )
    if not repeated:
        ticket_event(ticket, "handoff", user=user, complaint=complaint.pk)
    return public, dm
