"""What the support desk records: ticket events on the contact's timeline."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from contacts.models import TimelineEntry
from core.choices import Direction
from support.models import Ticket
from support.services import RULE_COMPLAINT, ticket_assign, ticket_open, tickets_open_for_entries
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


def test_ticket_events_are_on_the_contact_timeline(account, customer):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    event = TimelineEntry.objects.get(contact=customer, kind="ticket")
    assert event.subject == ticket
    assert event.content_type == ContentType.objects.get_for_model(Ticket)
    assert event.raw["event"] == "opened" and event.raw["rule"] == RULE_COMPLAINT


def test_a_ticket_event_is_internal_and_names_who_did_it(customer, support):
    ticket = ticket_open(contact=customer, subject="Router")
    ticket_assign(ticket=ticket, assignee=support, user=support)
    event = TimelineEntry.objects.get(contact=customer, kind="ticket", raw__event="assigned")
    assert event.direction == Direction.INTERNAL and event.created_by == support
    assert event.subject == ticket and event.raw["assignee"] == support.get_username()
    assert event.raw["ticket"] == ticket.pk and event.raw["subject"] == "Router"
