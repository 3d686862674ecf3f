"""CSAT: a one-time signed link DMed after resolution, answered on a public page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.utils import timezone

from contacts.models import TimelineEntry
from core.choices import Direction
from crm.models import OutboundMessage
from support.models import CsatSurvey, TicketReply
from support.services import (
    CSAT_SALT,
    CsatLinkError,
    csat_answer,
    ticket_resolve,
    tickets_open_for_entries,
)
from tests.factories import complaint_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(customer, account, support):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account, kind="dm", intent="complaint")]
    )
    ticket_resolve(ticket=ticket, user=support, message="Fixed: your line is back.")
    return ticket


def _link(ticket) -> str:
    reply = TicketReply.objects.get(ticket=ticket, purpose="csat")
    assert reply.message.kind == "dm"
    match = re.search(r"http://127\.0\.0\.1:8000(/support/csat/[^/\s]+/)", reply.message.text)
    return match.group(1)


def test_resolution_sends_final_message_and_csat_link_in_the_dm_thread(resolved, customer):
    replies = list(resolved.replies.select_related("message").order_by("id"))
    assert [r.purpose for r in replies] == ["final", "csat"]
    dm_in = resolved.interactions.get()
    for reply in replies:
        assert reply.message.kind == OutboundMessage.Kind.DM
        assert reply.message.in_reply_to == dm_in  # same thread
        assert reply.message.recipient == customer.identities.get()
    assert resolved.csat_surveys.count() == 1


def test_customer_rates_without_logging_in_and_it_lands_on_ticket_and_timeline(client, resolved):
    path = _link(resolved)
    page = client.get(path)
    assert page.status_code == 200 and b"How did we do?" in page.content
    response = client.post(path, {"rating": "4", "comment": "<b>Quick</b>, thanks"})
    assert response.status_code == 200 and b"Thank you!" in response.content
    survey = CsatSurvey.objects.get()
    assert (survey.rating, survey.comment) == (4, "<b>Quick</b>, thanks")
    entry = TimelineEntry.objects.get(kind="csat")
    assert entry.contact_id == resolved.contact_id and entry.subject == survey
    assert entry.direction == Direction.INBOUND  # the customer's answer, not our note
    assert entry.raw == {"rating": 4, "ticket": resolved.pk}


def test_a_link_cannot_be_reused(client, resolved):
    path = _link(resolved)
    client.post(path, {"rating": "5"})
    again = client.post(path, {"rating": "1"})
    assert again.status_code == 200 and b"Already answered" in again.content
    assert b"Already answered" in client.get(path).content
    assert CsatSurvey.objects.get().rating == 5
    assert TimelineEntry.objects.filter(kind="csat").count() == 1


def test_forged_and_tampered_links_get_a_clear_page(client, resolved):
    survey = CsatSurvey.objects.get()
    forged = signing.dumps({"s": survey.pk, "n": survey.nonce}, salt=CSAT_SALT, key="not-our-key")
    wrong_nonce = signing.dumps({"s": survey.pk, "n": "0" * 32}, salt=CSAT_SALT)
    for token in (forged, wrong_nonce, "garbage", _link(resolved).split("/")[-2][:-3] + "abc"):
        response = client.get(f"/support/csat/{token}/")
        assert response.status_code == 200
        assert b"This link is not valid" in response.content
    assert client.post(f"/support/csat/{forged}/", {"rating": "1"}).status_code == 200
    assert CsatSurvey.objects.get().answered_at is None


def test_an_expired_link_gets_a_clear_page(client, resolved, settings):
    path = _link(resolved)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(path)
    assert b"This link has expired" in response.content
    token = path.split("/")[-2]
    later = time_machine.travel(timezone.now() + timedelta(days=15))
    with later, pytest.raises(CsatLinkError, match="expired"):
        csat_answer(token=token, rating=3)


def test_a_client_key_cannot_hijack_the_csat_message(customer, account, support, sales):
    """The attack: a Sales user DMs the customer with the idempotency key that the CSAT
    request of the next survey would use (``csat-<id>``), through the API. Client keys
    are scoped to their user and Momento's own are keyed hashes: the customer still
    gets her CSAT link, in a message of its own."""
    from crm.services import interaction_answer
    from tests.conftest import api_as

    entry = complaint_entry(contact=customer, account=account, kind="dm", intent="complaint")
    [ticket] = tickets_open_for_entries(entries=[entry])
    with connection.cursor() as cursor:  # the id the next survey will get
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [CsatSurvey._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value + is_called::int FROM {sequence}")  # noqa: S608
        next_survey = cursor.fetchone()[0]
    for guess in [f"csat-{next_survey}", f"s:csat-{next_survey}", f"c:{support.pk}:k"]:
        response = api_as(sales).post(
            f"/api/v1/interactions/{entry.pk}/reply/",
            {"text": "Not the survey", "private": True, "idempotency_key": guess},
            format="json",
        )
        assert response.status_code in (200, 201, 202), response.content
        assert response.json()["idempotency_key"] == guess
    # The same key by another user is another message, not the first one handed back.
    mine = interaction_answer(
        entry=entry, text="Mine", private=True, user=support, idempotency_key="k"
    )
    assert mine.text == "Mine" and mine.created_by == support

    ticket_resolve(ticket=ticket, user=support)
    survey = CsatSurvey.objects.get(ticket=ticket)
    assert survey.pk == next_survey
    reply = TicketReply.objects.get(ticket=ticket, purpose="csat")
    assert "/support/csat/" in reply.message.text  # her link, in Momento's own message
    assert reply.message.created_by is None
    assert reply.message.idempotency_key.startswith("s:")
    assert f"csat-{survey.pk}" not in reply.message.idempotency_key
    assert OutboundMessage.objects.filter(text="Not the survey").count() == 3
