"""Canned responses: the team's text in the customer's language, or a built-in one."""

from __future__ import annotations

import pytest

from support.models import CannedResponse, Team
from support.services import canned_render, canned_text, tickets_open_for_entries
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


def test_team_text_wins_over_a_shared_one_and_the_built_in_speaks_spanish(
    customer, account, support
):
    CannedResponse.objects.all().delete()  # the data migration's shared texts
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account, language="es")]
    )
    built_in = canned_text(ticket, CannedResponse.Purpose.HANDOFF_PUBLIC)
    assert built_in.startswith("Hola Lucía Gómez") and ticket.number in built_in
    CannedResponse.objects.create(
        name="Shared", language="es", purpose="handoff_dm", body="Todos: {contact_name}"
    )
    assert canned_text(ticket, "handoff_dm", user=support) == "Todos: Lucía Gómez"
    CannedResponse.objects.create(
        team=ticket.team, name="Ours", language="es", purpose="handoff_dm", body="{agent_name}"
    )
    other = Team.objects.create(name="Billing")
    CannedResponse.objects.create(
        team=other, name="Theirs", language="es", purpose="handoff_dm", body="no"
    )
    assert canned_text(ticket, "handoff_dm", user=support) == support.get_username()


def test_render_fills_known_variables_and_leaves_other_braces():
    assert (
        canned_render("{contact_name} {unknown} {phone}", {"contact_name": "Ana", "phone": 1})
        == "Ana {unknown} 1"
    )
