"""The queue page's selection: filters, then the queue; "all" shows open work."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from support.models import Status, Ticket
from support.selectors import ticket_queue_for_page
from support.services import ticket_open
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_all_shows_open_work_unless_a_status_is_asked_for(support, team):
    open_one = ticket_open(contact=ContactFactory(), subject="Open")
    closed = ticket_open(contact=ContactFactory(), subject="Closed")
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    def shown(query: str) -> tuple[str, list[Ticket]]:
        page = ticket_queue_for_page(QueryDict(query), user=support)
        return page.queue, list(page.tickets.order_by("id"))

    assert shown("") == ("all", [open_one])
    assert shown("queue=nonsense") == ("all", [open_one])
    assert shown("status=closed") == ("all", [closed])
    assert shown("status=closed&status=new") == ("all", [open_one, closed])
    assert shown("queue=unassigned&status=closed") == ("unassigned", [])
    assert shown("priority=99") == ("all", [])  # an invalid filter shows nothing
    Ticket.objects.filter(pk=open_one.pk).update(assignee=support)
    assert shown("queue=mine") == ("mine", [open_one])
