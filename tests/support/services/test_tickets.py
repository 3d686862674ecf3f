"""Tickets themselves: interactions that join them and what that does to the status."""

from __future__ import annotations

import pytest

from support.models import Status
from support.services import ticket_change_status, tickets_open_for_entries
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


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
