"""Honest sends (issue 12, bugs 3 and 4): a send that never left is shown as a short
sentence in the reader's language (the network's own words one click away, for
managers), offers Retry and Edit and resend wherever it shows, and stops no SLA clock —
the first response is the first reply the network confirmed.

What the sentence says follows what happened: a network that could not be reached at
all (its name did not resolve, the connection was refused or timed out, the TLS
handshake failed) posted nothing; one that may have had the request (no answer in time,
the connection dropped after sending) may or may not have posted it. Bluesky and
Mastodon are sent to on loopback addresses that fail each way (``tests.crm.unreachable``).
X has no local server: its HTTP is intercepted with ``responses``, which raises the
exception ``requests`` really raised for the same failure, or answers in X API v2's
wire format."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import responses
import time_machine
from django.utils import timezone
from django.utils.translation import override

from contacts.models import TimelineEntry
from crm.models import OutboundMessage, SocialAccount
from crm.outbox import RetryLater, outbound_deliver, outbound_queue, outbound_retry
from support.models import SlaEvent, Ticket
from support.services import sla_evaluate, tickets_open_for_entries
from tests.conftest import api_as
from tests.crm.test_networks_x import API as X_API
from tests.crm.test_networks_x import KEYS as X_KEYS
from tests.crm.test_networks_x import ME as X_ME
from tests.crm.unreachable import MAYBE_SENT, NEVER_SENT, failing_base_url, requests_error
from tests.factories import SocialAccountFactory, SocialIdentityFactory, complaint_entry

pytestmark = pytest.mark.django_db

CREATED = {
    "data": {
        "id": "1880000000000000000",
        "text": "On it",
        "edit_history_tweet_ids": ["1880000000000000000"],
    }
}


@pytest.fixture(scope="module")
def refused():
    """What requests raises when the connection is refused: nothing left the machine."""
    return requests_error("closed_port")


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
    x_ticket, support, manager, client, django_capture_on_commit_callbacks, refused
):
    responses.post(f"{X_API}/tweets", body=refused)
    client.force_login(support)
    message = _reply(client, x_ticket, "We are looking into it", django_capture_on_commit_callbacks)
    assert message.state == "failed" and message.failure == "unreachable"
    assert "NewConnectionError" in message.last_error  # kept for managers

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
    assert "X could not be reached; nothing was posted." in page
    assert "may or may not" not in page
    assert "ConnectionError" not in page and "NewConnectionError" not in page
    assert f'action="/outbox/{message.pk}/retry/"' in page and "Edit and resend" in page
    inbox = client.get("/inbox/?kinds=mention").content.decode()
    assert "X could not be reached" in inbox and "NewConnectionError" not in inbox
    assert f"/outbox/{message.pk}/retry/" in inbox
    # In Spanish too, from the same stored code.
    with override("es"):
        page_es = client.get(f"/support/tickets/{x_ticket.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "No se pudo contactar con X; no se publicó nada." in page_es.content.decode()
    # A manager has the technical detail one click away.
    client.force_login(manager)
    page = client.get(f"/support/tickets/{x_ticket.pk}/").content.decode()
    assert "Technical detail" in page and "NewConnectionError" in page


@responses.activate
def test_retry_sends_the_same_message_once_and_its_confirmation_is_the_first_response(
    x_ticket, support, client, django_capture_on_commit_callbacks, refused
):
    responses.post(f"{X_API}/tweets", body=refused)
    client.force_login(support)
    message = _reply(client, x_ticket, "We are looking into it", django_capture_on_commit_callbacks)
    assert message.state == "failed"

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
    x_ticket, support, manager, client, django_capture_on_commit_callbacks, refused
):
    responses.post(f"{X_API}/tweets", body=refused)
    client.force_login(support)
    message = _reply(client, x_ticket, "First try", django_capture_on_commit_callbacks)
    listed = api_as(support).get("/api/v1/outbox/?state=failed").json()
    [row] = listed["results"]
    assert row["failure"] == "unreachable"
    assert row["failure_text"] == "X could not be reached; nothing was posted."

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


# -- what the sentence says follows what happened ------------------------------------------

NOTHING_POSTED = {
    "en": "%s could not be reached; nothing was posted.",
    "es": "No se pudo contactar con %s; no se publicó nada.",
}
MAYBE_POSTED = {
    "en": "%s did not confirm it, so it may or may not have been posted.",
    "es": "%s no lo confirmó, así que puede que se haya publicado o no.",
}


def _ticket_page_says(client, ticket: Ticket, message: OutboundMessage, network: str):
    """The ticket page's sentence for ``message``, in English and Spanish, with its
    Retry and Edit and resend."""
    expected = NOTHING_POSTED if message.state == "failed" else MAYBE_POSTED
    other = MAYBE_POSTED if message.state == "failed" else NOTHING_POSTED
    for language in ("en", "es"):
        with override(language):
            page = client.get(
                f"/support/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE=language
            ).content.decode()
        assert expected[language] % network in page, language
        assert other[language] % network not in page, language
        assert f'action="/outbox/{message.pk}/retry/"' in page
        assert f"/outbox/{message.pk}/?edit=1" in page
        assert "Error(" not in page and "Errno" not in page  # no exception text


@pytest.mark.parametrize("case", NEVER_SENT + MAYBE_SENT)
def test_an_x_send_that_never_left_posted_nothing_and_one_that_may_have_is_unknown(
    case, x_ticket, support, client, django_capture_on_commit_callbacks
):
    error = requests_error(case)  # before X's HTTP is intercepted
    client.force_login(support)
    with responses.RequestsMock() as mock:
        mock.post(f"{X_API}/tweets", body=error)
        message = _reply(client, x_ticket, "We are on it", django_capture_on_commit_callbacks)
    if case in NEVER_SENT:
        assert (message.state, message.failure) == ("failed", "unreachable")
    else:
        assert (message.state, message.failure) == ("unknown", "no_answer")
    _ticket_page_says(client, x_ticket, message, "X")
    x_ticket.refresh_from_db()
    assert x_ticket.first_response_at is None


@pytest.fixture
def bsky_ticket(customer) -> Ticket:
    account = SocialAccountFactory(
        network="bluesky",
        handle="brand.test",
        external_id="did:plc:brand",
        credentials={"app_password": "app-pass"},
    )
    entry = complaint_entry(contact=customer, account=account)
    [ticket] = tickets_open_for_entries(entries=[entry])
    return ticket


@pytest.mark.parametrize("case", NEVER_SENT + MAYBE_SENT)
def test_a_bluesky_send_whose_login_fails_in_any_way_posted_nothing(
    case, bsky_ticket, support, client, django_capture_on_commit_callbacks
):
    """No mock: Bluesky's client (httpx) sends to a loopback address that fails so. A
    Bluesky send logs in first, and there it fails: even a read timeout or a hang-up
    (which after the post itself would leave the outcome unknown) means nothing was
    posted, and the agent is told so (not "may or may not")."""
    client.force_login(support)
    with failing_base_url(case) as url:
        SocialAccount.objects.filter(pk=bsky_ticket.account_id).update(base_url=url)
        message = _reply(client, bsky_ticket, "We are on it", django_capture_on_commit_callbacks)
    assert (message.state, message.failure) == ("failed", "unreachable")
    assert not message.maybe_posted
    assert message.attempts == 1  # Bluesky takes no key: nothing is sent twice by itself
    _ticket_page_says(client, bsky_ticket, message, "Bluesky")
    bsky_ticket.refresh_from_db()
    assert bsky_ticket.first_response_at is None
    assert not TimelineEntry.objects.filter(direction="out").exists()


def _mastodon_attempts(message: OutboundMessage, cases: list[str]) -> OutboundMessage:
    """Deliver ``message`` once per case, the instance failing as the case says."""
    for case in cases:
        with failing_base_url(case) as url:
            SocialAccount.objects.filter(pk=message.account_id).update(base_url=url)
            with contextlib.suppress(RetryLater):
                outbound_deliver(message_id=message.pk)
        message.refresh_from_db()
    return message


def test_mastodon_retries_an_unreachable_instance_then_says_nothing_was_posted(
    customer, django_capture_on_commit_callbacks
):
    """Mastodon deduplicates by key, so it is retried by itself; while it is, the
    sentence says so, and when it gives up nothing was posted."""
    account = SocialAccountFactory(network="mastodon", credentials={"access_token": "t"})
    with django_capture_on_commit_callbacks():
        message = outbound_queue(account=account, kind="post", text="Back soon", contact=customer)
    message = _mastodon_attempts(message, ["closed_port"])
    assert (message.state, message.failure) == ("pending", "unreachable")
    assert message.failure_text == "Mastodon could not be reached; trying again."
    message = _mastodon_attempts(message, ["unresolvable", "closed_port", "closed_port"])
    assert message.state == "pending" and message.attempts == 4
    message = _mastodon_attempts(message, ["closed_port"])
    assert (message.state, message.failure, message.attempts) == ("failed", "unreachable", 5)
    assert message.failure_text == "Mastodon could not be reached; nothing was posted."
    with override("es"):
        assert message.failure_text == "No se pudo contactar con Mastodon; no se publicó nada."


def test_an_attempt_that_may_have_posted_is_not_forgotten_by_a_later_unreachable_one(
    customer, django_capture_on_commit_callbacks
):
    """The first attempt hung up after sending (it may be on Mastodon); the next four
    never left. The message may still be posted: its outcome is unknown, not "nothing
    was posted". A person's Retry (after checking, as the sentence asks) starts afresh."""
    account = SocialAccountFactory(network="mastodon", credentials={"access_token": "t"})
    with django_capture_on_commit_callbacks():
        message = outbound_queue(account=account, kind="post", text="Back soon", contact=customer)
    message = _mastodon_attempts(message, ["hang_up"])
    assert (message.state, message.failure, message.maybe_posted) == ("pending", "no_answer", True)
    assert message.failure_text == "Mastodon did not answer; trying again under the same key."
    message = _mastodon_attempts(message, ["closed_port"] * 4)
    assert (message.state, message.failure) == ("unknown", "no_answer")
    assert message.failure_text.startswith("Mastodon did not confirm it, so it may or may not")

    with django_capture_on_commit_callbacks():
        outbound_retry(message=message)
    message.refresh_from_db()
    assert (message.state, message.maybe_posted) == ("pending", False)
    message = _mastodon_attempts(message, ["closed_port"] * 5)
    assert (message.state, message.failure) == ("failed", "unreachable")
