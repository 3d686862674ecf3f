"""Honest sends (issue 12, bugs 3 and 4): a send that never left is shown as a short
sentence in the reader's language (the network's own words one click away, for
managers), offers Retry and Edit and resend wherever it shows, and stops no SLA clock —
the first response is the first reply the network confirmed.

X has no local server: its HTTP is intercepted with ``responses`` in X API v2's wire
format (a refused connection is what a DNS failure looks like to the client)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses
import time_machine
from django.utils import timezone
from django.utils.translation import override

from contacts.models import TimelineEntry
from crm.models import OutboundMessage, SocialAccount
from support.models import SlaEvent, Ticket
from support.services import sla_evaluate, tickets_open_for_entries
from tests.conftest import api_as
from tests.crm.test_networks_x import API as X_API
from tests.crm.test_networks_x import KEYS as X_KEYS
from tests.crm.test_networks_x import ME as X_ME
from tests.factories import SocialAccountFactory, SocialIdentityFactory, complaint_entry

pytestmark = pytest.mark.django_db

CREATED = {
    "data": {
        "id": "1880000000000000000",
        "text": "On it",
        "edit_history_tweet_ids": ["1880000000000000000"],
    }
}
DNS_ERROR = requests.ConnectionError(
    "HTTPSConnectionPool(host='api.twitter.com', port=443): Max retries exceeded "
    "(Caused by NameResolutionError: Failed to resolve 'api.twitter.com')"
)


@pytest.fixture
def x_account() -> SocialAccount:
    return SocialAccountFactory(
        network="x", handle="brand", external_id=X_ME, base_url="", credentials=X_KEYS
    )


@pytest.fixture
def x_ticket(customer, x_account) -> Ticket:
    SocialIdentityFactory(contact=customer, network="x", handle="lucia_x", external_id="1111")
    entry = complaint_entry(contact=customer, account=x_account, external_id="1860000000000000001")
    [ticket] = tickets_open_for_entries(entries=[entry])
    return ticket


def _reply(client, ticket: Ticket, text: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/support/tickets/{ticket.pk}/reply/", {"kind": "reply", "text": text}
        )
    assert response.status_code == 302
    return OutboundMessage.objects.filter(ticket_reply__ticket=ticket).latest("pk")


@responses.activate
def test_an_unreachable_network_stops_no_clock_and_shows_a_sentence_not_an_exception(
    x_ticket, support, manager, client, django_capture_on_commit_callbacks
):
    responses.post(f"{X_API}/tweets", body=DNS_ERROR)
    client.force_login(support)
    message = _reply(client, x_ticket, "We are looking into it", django_capture_on_commit_callbacks)
    assert message.state == "unknown" and message.failure == "unreachable"
    assert "NameResolutionError" in message.last_error  # kept for managers

    # Bug 3: nothing the network did not confirm counts as a first response.
    x_ticket.refresh_from_db()
    assert x_ticket.first_response_at is None
    assert x_ticket.first_response_due_at is not None  # still on the first-response target
    with time_machine.travel(x_ticket.first_response_due_at + timedelta(minutes=1)):
        sla_evaluate()
        report = api_as(manager).get("/api/v1/reports/support/").json()
    assert SlaEvent.objects.filter(target="first_response", level="breach").count() == 1
    assert report["sla"]["first_response"] == {
        "tickets": 1,
        "breached": 1,
        "attained_percent": 0.0,
    }
    assert report["median_first_response_minutes"] is None

    # Bug 4: the agent reads one sentence and can act on it; no exception text.
    page = client.get(f"/support/tickets/{x_ticket.pk}/").content.decode()
    assert "X did not confirm it, so it may or may not have been posted." in page
    assert "ConnectionError" not in page and "NameResolutionError" not in page
    assert f'action="/outbox/{message.pk}/retry/"' in page and "Edit and resend" in page
    inbox = client.get("/inbox/?kinds=mention").content.decode()
    assert "X did not confirm it" in inbox and "NameResolutionError" not in inbox
    assert f"/outbox/{message.pk}/retry/" in inbox
    # In Spanish too, from the same stored code.
    with override("es"):
        page_es = client.get(f"/support/tickets/{x_ticket.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "X no lo confirmó" in page_es.content.decode()
    # A manager has the technical detail one click away.
    client.force_login(manager)
    page = client.get(f"/support/tickets/{x_ticket.pk}/").content.decode()
    assert "Technical detail" in page and "NameResolutionError" in page


@responses.activate
def test_retry_sends_the_same_message_once_and_its_confirmation_is_the_first_response(
    x_ticket, support, client, django_capture_on_commit_callbacks
):
    responses.post(f"{X_API}/tweets", body=DNS_ERROR)
    client.force_login(support)
    message = _reply(client, x_ticket, "We are looking into it", django_capture_on_commit_callbacks)
    assert message.state == "unknown"

    responses.replace(responses.POST, f"{X_API}/tweets", json=CREATED, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        fragment = client.post(f"/outbox/{message.pk}/retry/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    message.refresh_from_db()
    assert (message.state, message.failure, message.last_error) == ("sent", "", "")
    assert message.external_id == "1880000000000000000"
    assert b"Retry" not in fragment.content or message.state != "sent"
    assert len(responses.calls) == 2
    x_ticket.refresh_from_db()
    assert x_ticket.first_response_at == message.sent_at
    assert (
        TimelineEntry.objects.filter(direction="out", external_id=message.external_id).count() == 1
    )
    # A sent message is never sent again.
    again = client.post(f"/outbox/{message.pk}/retry/")
    assert again.status_code == 302 and len(responses.calls) == 2
    assert OutboundMessage.objects.filter(ticket_reply__ticket=x_ticket).count() == 1


@responses.activate
def test_edit_and_resend_sends_the_new_text_under_a_new_key(
    x_ticket, support, client, django_capture_on_commit_callbacks
):
    responses.post(
        f"{X_API}/tweets",
        status=403,
        json={"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Too long"},
    )
    client.force_login(support)
    message = _reply(client, x_ticket, "A very long answer", django_capture_on_commit_callbacks)
    assert (message.state, message.failure) == ("failed", "refused")
    page = client.get(f"/support/tickets/{x_ticket.pk}/").content.decode()
    assert "X refused it; nothing was posted." in page

    form = client.get(f"/outbox/{message.pk}/?edit=1", HTTP_HX_REQUEST="true")
    assert b'name="text"' in form.content and b"A very long answer" in form.content
    # An empty edit is refused with its reason, in place.
    empty = client.post(f"/outbox/{message.pk}/retry/", {"text": "  "}, HTTP_HX_REQUEST="true")
    assert b"Write something to send." in empty.content
    message.refresh_from_db()
    assert message.state == "failed"

    responses.replace(responses.POST, f"{X_API}/tweets", json=CREATED, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/outbox/{message.pk}/retry/", {"text": "Short answer"}, HTTP_HX_REQUEST="true"
        )
    message.refresh_from_db()
    assert (message.state, message.text, message.resends) == ("sent", "Short answer", 1)
    assert message.network_key != message.idempotency_key
    assert b'"text": "Short answer"' in responses.calls[-1].request.body


def _refused_post(account: SocialAccount, *, text: str, key: str) -> OutboundMessage:
    return OutboundMessage.objects.create(
        account=account,
        kind="post",
        text=text,
        idempotency_key=key,
        state="failed",
        failure="refused",
    )


def test_someone_who_may_not_send_cannot_retry(x_ticket, client, outsider, support):
    message = _refused_post(x_ticket.account, text="t", key="k")
    client.force_login(outsider)
    assert client.post(f"/outbox/{message.pk}/retry/").status_code == 403
    message.refresh_from_db()
    assert message.state == "failed"


def test_the_failure_sentence_survives_bad_stored_params(x_account):
    message = OutboundMessage(
        account=x_account,
        kind="post",
        state="pending",
        failure="rate_limited",
        failure_params={"unexpected": "%(x)s"},
    )
    assert message.failure_text == "X asked us to wait; it will be sent at ."
    message.failure_params = {"at": "10:42"}
    assert message.failure_text == "X asked us to wait; it will be sent at 10:42."
    assert timezone.now()  # the sentence needs no clock


@responses.activate
def test_the_api_and_the_admin_retry_a_failed_send(
    x_ticket, support, manager, client, django_capture_on_commit_callbacks
):
    responses.post(f"{X_API}/tweets", body=DNS_ERROR)
    client.force_login(support)
    message = _reply(client, x_ticket, "First try", django_capture_on_commit_callbacks)
    listed = api_as(support).get("/api/v1/outbox/?state=unknown").json()
    [row] = listed["results"]
    assert row["failure"] == "unreachable" and row["failure_text"].startswith("X did not confirm")

    bad = api_as(support).post(f"/api/v1/outbox/{message.pk}/retry/", {"text": " "}, format="json")
    assert bad.status_code == 400 and bad.json() == {"text": ["Write something to send."]}

    responses.replace(responses.POST, f"{X_API}/tweets", json=CREATED, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        sent = api_as(support).post(f"/api/v1/outbox/{message.pk}/retry/", {}, format="json")
    assert sent.status_code == 202 and sent.json()["state"] == "pending"
    message.refresh_from_db()
    assert message.state == "sent"
    again = api_as(support).post(f"/api/v1/outbox/{message.pk}/retry/", {}, format="json")
    assert again.status_code == 400 and "state" in again.json()

    # The admin: a manager retries a failed message with the action.
    failed = _refused_post(x_ticket.account, text="From the admin", key="admin-1")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/crm/outboundmessage/",
            {"action": "retry", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert "1 message(s) queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == "sent"
