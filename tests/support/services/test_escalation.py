"""Virality escalation: engagement or reach past a team's thresholds, once."""

from __future__ import annotations

import pytest

from contacts.models import TimelineEntry
from core.models import Notification
from support.models import Priority
from support.services import ticket_escalate, tickets_escalate_for_entries, tickets_open_for_entries
from tests.factories import SupportAgentFactory, complaint_entry

pytestmark = pytest.mark.django_db


def test_reposts_past_the_threshold_escalate_once(team, customer, account, manager):
    team.escalate_reposts = 10
    team.escalate_to = Priority.URGENT
    team.save()
    agent = SupportAgentFactory(team=team).user
    entry = complaint_entry(contact=customer, account=account)
    [ticket] = tickets_open_for_entries(entries=[entry])
    assert ticket.priority == Priority.NORMAL and ticket.escalated_at is None

    # Sync refreshes counts: 9 reposts is not enough, 12 is.
    TimelineEntry.objects.filter(pk=entry.pk).update(repost_count=9)
    entry.refresh_from_db()
    assert tickets_escalate_for_entries(entries=[entry]) == []
    TimelineEntry.objects.filter(pk=entry.pk).update(repost_count=12, like_count=3)
    entry.refresh_from_db()
    assert [t.pk for t in tickets_escalate_for_entries(entries=[entry])] == [ticket.pk]
    assert tickets_escalate_for_entries(entries=[entry]) == []  # once

    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT and ticket.escalated_at is not None
    assert ticket.sla_first_response_minutes == 15  # urgent policy
    alerts = Notification.objects.filter(dedupe_key=f"ticket-{ticket.pk}-escalated")
    assert {n.user for n in alerts} == {manager, agent}
    assert "12 reposts" in alerts.first().body
    assert TimelineEntry.objects.filter(kind="ticket", raw__event="escalated").count() == 1


def test_author_reach_escalates_a_new_complaint(team, customer, account, manager):
    team.escalate_followers = 5000
    team.save()
    identity = customer.identities.get()
    identity.follower_count = 80000
    identity.save()
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    ticket.refresh_from_db()
    assert ticket.escalated_at is not None and ticket.priority == team.escalate_to
    assert Notification.objects.filter(user=manager).count() == 1


def test_praise_does_not_escalate_and_manual_escalation_is_once(team, customer, account):
    team.escalate_likes = 1
    team.save()
    praise = complaint_entry(
        contact=customer, account=account, kind="dm", intent="praise", like_count=99
    )
    [ticket] = tickets_open_for_entries(entries=[praise])
    ticket.refresh_from_db()
    assert ticket.escalated_at is None
    assert ticket_escalate(ticket=ticket, reason="CEO asked") is True
    assert ticket_escalate(ticket=ticket, reason="again") is False
