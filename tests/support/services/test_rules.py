"""The ticket rules the ingest path calls: ``tickets_apply_rules_for_ingested`` (through
``core.signals.entries_ingested``) and ``tickets_open_for_entries``."""

from __future__ import annotations

import pytest

from contacts.models import TimelineEntry
from support.models import Status, Ticket
from support.services import (
    RULE_COMPLAINT,
    RULE_DM,
    tickets_apply_rules_for_ingested,
    tickets_open_for_entries,
)
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


def test_rules_for_an_ingested_page_take_ids_and_pick_what_counts(account, customer, team):
    """What ``core.signals.entries_ingested`` hands over: ids of stored entries. Only
    inbound conversation items open tickets; refreshed counts may escalate them."""
    team.escalate_reposts = 10
    team.save()
    complaint = complaint_entry(contact=customer, account=account)
    like = complaint_entry(contact=customer, account=account, kind="like")
    ours = TimelineEntryFactory(contact=customer, direction="out", kind="dm", network="mastodon")
    tickets_apply_rules_for_ingested(created_ids=[like.pk, ours.pk, complaint.pk], updated_ids=[])
    ticket = Ticket.objects.get()
    assert list(ticket.interactions.values_list("pk", flat=True)) == [complaint.pk]
    assert ticket.opened_by_rule == RULE_COMPLAINT and ticket.escalated_at is None

    TimelineEntry.objects.filter(pk=complaint.pk).update(repost_count=25)
    tickets_apply_rules_for_ingested(created_ids=[], updated_ids=[complaint.pk, ours.pk])
    ticket.refresh_from_db()
    assert ticket.escalated_at is not None and ticket.priority == team.escalate_to
    assert Ticket.objects.count() == 1
