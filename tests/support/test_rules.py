"""The ticket rules the ingest path calls: ``tickets_open_for_entries``."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from contacts.models import TimelineEntry
from support.models import Status, Ticket
from support.services import RULE_COMPLAINT, RULE_DM, ticket_change_status, tickets_open_for_entries
from tests.factories import ContactFactory, TimelineEntryFactory, complaint_entry

pytestmark = pytest.mark.django_db


def test_inbound_dm_opens_a_ticket_and_later_messages_join_it(account, team):
    stranger = ContactFactory(stage=0)
    dm = complaint_entry(
        contact=stranger, account=account, kind="dm", intent="question", text="hi?"
    )
    [ticket] = tickets_open_for_entries(entries=[dm])
    assert ticket.opened_by_rule == RULE_DM
    assert ticket.account == account and ticket.network == "mastodon"
    assert ticket.identity == dm.identity and ticket.team == team
    assert ticket.status == Status.NEW

    later = complaint_entry(contact=stranger, account=account, kind="mention", intent="other")
    follow = complaint_entry(contact=stranger, account=account, kind="follow", intent="")
    assert tickets_open_for_entries(entries=[later, follow]) == [ticket]
    assert set(ticket.interactions.values_list("pk", flat=True)) == {dm.pk, later.pk}
    assert Ticket.objects.count() == 1

    # Idempotent: the same page stored again changes nothing.
    tickets_open_for_entries(entries=[dm, later])
    assert ticket.links.count() == 2


def test_complaint_opens_a_ticket_only_for_a_customer(account, customer):
    lead = ContactFactory(stage=1)
    from_lead = complaint_entry(contact=lead, account=account)
    from_customer = complaint_entry(contact=customer, account=account)
    question = complaint_entry(contact=ContactFactory(stage=2), account=account, intent="question")
    opened = tickets_open_for_entries(entries=[from_lead, from_customer, question])
    assert [t.contact for t in opened] == [customer]
    assert opened[0].opened_by_rule == RULE_COMPLAINT
    assert opened[0].keywords  # topic keywords kept for incidents and reports


def test_ticket_events_are_on_the_contact_timeline(account, customer):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    event = TimelineEntry.objects.get(contact=customer, kind="ticket")
    assert event.subject == ticket
    assert event.content_type == ContentType.objects.get_for_model(Ticket)
    assert event.raw["event"] == "opened" and event.raw["rule"] == RULE_COMPLAINT


def test_customer_reply_reopens_a_ticket_pending_the_customer(account, customer):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    ticket = ticket_change_status(ticket=ticket, status=Status.PENDING)
    assert ticket.sla_running_since is None
    answer = complaint_entry(contact=customer, account=account, kind="dm", intent="other")
    tickets_open_for_entries(entries=[answer])
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.sla_running_since is not None


def test_resolved_ticket_is_not_joined(account, customer):
    [first] = tickets_open_for_entries(entries=[complaint_entry(contact=customer, account=account)])
    Ticket.objects.filter(pk=first.pk).update(status=Status.CLOSED)
    [second] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    assert second.pk != first.pk


def test_outbound_and_internal_entries_are_ignored(account, customer):
    ours = TimelineEntryFactory(contact=customer, direction="out", kind="dm", network="mastodon")
    note = TimelineEntryFactory(contact=customer, direction="internal", kind="note", network="")
    assert tickets_open_for_entries(entries=[ours, note]) == []
    assert not Ticket.objects.exists()
