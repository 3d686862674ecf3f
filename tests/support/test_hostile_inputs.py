"""Odd input on the support pages and API: a 4xx or an ignored value, never a 500."""

from __future__ import annotations

import pytest

from support.models import CannedResponse, Ticket
from support.services import tickets_open_for_entries
from tests.conftest import api_as
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(customer, account):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account)]
    )
    return ticket


@pytest.mark.parametrize("digit", ["²", "٣", "①"])
def test_canned_with_a_unicode_digit_fills_nothing(client, support, ticket, digit):
    CannedResponse.objects.create(name="Hola", language="en", body="Hello {contact_name}")
    client.force_login(support)
    response = client.get(f"/support/tickets/{ticket.pk}/", {"canned": digit})
    assert response.status_code == 200
    assert "Hello Lucía Gómez</textarea>" not in response.content.decode()


@pytest.mark.parametrize("digit", ["²", "٣", "①"])
def test_bulk_assign_with_unicode_digits_assigns_nothing(client, manager, support, ticket, digit):
    client.force_login(manager)
    response = client.post("/support/assign/", {"tickets": [digit], "assignee": support.pk})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assignee_id != support.pk
    # The real id next to it still goes through.
    client.post("/support/assign/", {"tickets": [digit, str(ticket.pk)], "assignee": support.pk})
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == support.pk


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "0001-01-05"}, "to"),  # the default start would be before year 1
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "2026-02-30"}, "from"),
    ],
)
def test_report_dates_off_the_calendar_are_field_errors(client, manager, params, field):
    response = api_as(manager).get("/api/v1/reports/support/", params)
    assert response.status_code == 400 and field in response.json()
    client.force_login(manager)
    page = client.get("/support/reports/", params)
    assert page.status_code == 200 and "Use a date" in page.content.decode()
