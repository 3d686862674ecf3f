"""Public → private: one public acknowledgement and one DM per complaint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import TimelineEntry
from support.models import Status, TicketReply
from support.services import ticket_handoff, ticket_reply_confirmed, tickets_open_for_entries
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


def test_handoff_answers_the_complaint_and_dms_its_author_once(customer, account, support):
    complaint = complaint_entry(contact=customer, account=account)
    [ticket] = tickets_open_for_entries(entries=[complaint])
    public, dm = ticket_handoff(ticket=ticket, user=support)
    assert public.message.kind == "reply" and public.message.in_reply_to == complaint
    assert dm.message.kind == "dm" and dm.message.recipient == customer.identities.get()
    # The built-in texts, filled in for this customer and ticket.
    assert "Lucía Gómez" in public.message.text and ticket.number in dm.message.text
    assert ticket_handoff(ticket=ticket, user=support) == (public, dm)
    assert TicketReply.objects.filter(ticket=ticket).count() == 2
    assert TimelineEntry.objects.filter(kind="ticket", raw__event="handoff").count() == 1
    ticket.refresh_from_db()
    # Queued is not answered: the first response waits for the network's confirmation.
    assert ticket.first_response_at is None and ticket.status == Status.OPEN
    sent_at = timezone.now()
    ticket_reply_confirmed(message_id=public.message.pk, sent_at=sent_at)
    ticket_reply_confirmed(message_id=dm.message.pk, sent_at=sent_at + timedelta(seconds=5))
    ticket.refresh_from_db()
    # A first response, and the clock keeps running: the customer owes us the details.
    assert ticket.first_response_at == sent_at and ticket.status == Status.OPEN
    assert ticket.sla_running_since is not None
