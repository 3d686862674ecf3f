"""The end of a ticket: the final message, the clock stopped, and the customer asked to
rate the help."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import OutboundMessage

from ..models import Status, Ticket, TicketReply
from .csat import csat_request
from .events import ticket_event
from .replies import ticket_dm_anchor, ticket_reply
from .sla import copy_back, save_clock, set_status, ticket_schedule


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    user: AbstractBaseUser | None = None,
    message: str = "",
    message_key: str | None = None,
    csat: bool = True,
) -> Ticket:
    """Resolve: send the final ``message`` if any (in the DM thread when there is one,
    else publicly), stop the clock, and ask the customer for a rating by DM."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not locked.is_active:
        raise ValidationError({"status": _("This ticket is already resolved.")})
    if message.strip():
        kind = OutboundMessage.Kind.DM if ticket_dm_anchor(locked) else OutboundMessage.Kind.REPLY
        ticket_reply(
            ticket=locked,
            kind=kind,
            text=message,
            user=user,
            purpose=TicketReply.Purpose.FINAL,
            idempotency_key=message_key,
        )
    set_status(locked, Status.RESOLVED, now=timezone.now(), schedule=ticket_schedule(locked))
    save_clock(locked, "status")
    ticket_event(locked, "resolved", user=user)
    if csat:
        csat_request(ticket=locked)
    copy_back(ticket, locked)
    return locked
