"""Round-robin among available Support staff, under a per-person cap; bulk assign."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from support.models import Status, SupportAgent, Ticket
from support.services import (
    ticket_change_status,
    ticket_open,
    tickets_assign_waiting,
    tickets_bulk_assign,
)
from tests.factories import ContactFactory, SupportAgentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _open(n: int) -> list[Ticket]:
    return [ticket_open(contact=ContactFactory(), subject=f"Problem {i}") for i in range(n)]


def test_round_robin_takes_turns(team):
    agents = [SupportAgentFactory(team=team).user for _ in range(3)]
    tickets = _open(9)
    assert [t.assignee for t in tickets] == agents * 3
    assert Counter(t.assignee for t in tickets) == {a: 3 for a in agents}


def test_unavailable_people_and_other_teams_are_skipped(team):
    from support.models import Team

    here = SupportAgentFactory(team=team).user
    SupportAgentFactory(team=team, is_available=False)
    SupportAgentFactory(team=Team.objects.create(name="Billing"))
    assert {t.assignee for t in _open(3)} == {here}


def test_cap_leaves_tickets_waiting_until_someone_frees_up(team):
    ana = SupportAgentFactory(team=team, max_open_tickets=2).user
    ben = SupportAgentFactory(team=team, max_open_tickets=1).user
    tickets = _open(4)
    assert Counter(t.assignee for t in tickets) == {ana: 2, ben: 1, None: 1}
    waiting = next(t for t in tickets if t.assignee is None)
    assert tickets_assign_waiting() == 0  # still full

    done = next(t for t in tickets if t.assignee == ben)
    ticket_change_status(ticket=done, status=Status.CLOSED)
    assert tickets_assign_waiting() == 1
    waiting.refresh_from_db()
    assert waiting.assignee == ben


def test_fairness_counts_from_the_least_recently_assigned(team):
    ana = SupportAgentFactory(team=team).user
    ben = SupportAgentFactory(team=team).user
    first = _open(1)[0]
    assert first.assignee == ana
    cai = SupportAgentFactory(team=team).user  # joins later: never assigned, so before ana
    assert [t.assignee for t in _open(4)] == [ben, cai, ana, ben]
    assert SupportAgent.objects.get(user=ana).last_assigned_at is not None


def test_bulk_assign_and_who_may_be_assigned(team, support, sales):
    tickets = _open(3)
    assert tickets_bulk_assign(tickets=tickets, assignee=support, user=support) == 3
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {support.pk}
    with pytest.raises(ValidationError):
        tickets_bulk_assign(tickets=tickets[:1], assignee=sales, user=support)
    with pytest.raises(ValidationError):
        tickets_bulk_assign(tickets=tickets[:1], assignee=UserFactory(), user=support)
