"""Answering from the inbox, the contact page and the API, against real peers: the
answer reaches the peer exactly once (what the outbox guarantees when a send is retried
or its worker dies is in test_outbox.py)."""

import pytest

from contacts.models import TimelineEntry
from crm.models import OutboundMessage
from crm.outbox import outbound_deliver
from tests.crm.helpers import answer, connect_mastodon, ingest_from_peer, replies_by

pytestmark = [pytest.mark.django_db, pytest.mark.peers]


@pytest.fixture
def alice(mastodon_server, manager):
    return connect_mastodon(mastodon_server, "alice", actor=manager)


def test_inbox_reply_reaches_mastodon_once(
    client, support, alice, mastodon_server, django_capture_on_commit_callbacks
):
    bob = mastodon_server.client("bob")
    hostile = "@alice <script>window.pwned=1</script> \u202eevil\u202c where is my order? 😡"
    question = bob.status_post(hostile)
    [entry] = ingest_from_peer(alice)
    assert entry.kind == "mention"

    client.force_login(support)
    inbox = client.get("/inbox/").content.decode()
    assert f'id="inbox-{entry.pk}"' in inbox
    assert "<script>window.pwned" not in inbox
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in inbox
    assert "\u202eevil" in inbox

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, entry, "Sorry! It ships today.", key="inbox-once")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="answer-{entry.pk}"' in html and "Sorry! It ships today." in html
    message = OutboundMessage.objects.get()
    assert message.state == "sent" and message.account == alice
    assert message.created_by == support and message.in_reply_to == entry

    # The answer box polls the message until it is sent, then shows where it went.
    assert f'hx-get="/outbox/{message.pk}/"' in html  # drawn while it was pending
    shown = client.get(f"/outbox/{message.pk}/").content.decode()
    assert "Sent" in shown and "hx-trigger" not in shown and message.url in shown

    # The same form submitted again (a double click, a retried request): sent once.
    with django_capture_on_commit_callbacks(execute=True):
        again = answer(client, entry, "Sorry! It ships today.", key="inbox-once")
    assert again.status_code == 200
    assert OutboundMessage.objects.count() == 1
    replies = replies_by(mastodon_server, "alice", question["id"])
    assert len(replies) == 1 and "It ships today." in replies[0]["content"]
    notes = bob.notifications(types=["mention"])
    assert [n["status"]["id"] for n in notes] == [replies[0]["id"]]

    # What was sent is on the contact's timeline; the item left the inbox.
    entry.refresh_from_db()
    assert entry.handled_at is not None and entry.handled_by == support
    sent = TimelineEntry.objects.get(direction="out")
    assert sent.kind == "reply" and sent.contact == entry.contact and sent.account == alice
    assert sent.external_id == message.external_id and sent.in_reply_to == entry.external_id
    assert f'id="inbox-{entry.pk}"' not in client.get("/inbox/").content.decode()
    detail = client.get(f"/contacts/{entry.contact_id}/").content.decode()
    assert "Sorry! It ships today." in detail and "direction-out" in detail

    # Delivering the message again does nothing: the row is no longer pending.
    assert outbound_deliver(message_id=message.pk) is None
    assert len(replies_by(mastodon_server, "alice", question["id"])) == 1


def test_dm_from_the_contact_page_reaches_mastodon(
    client, sales, alice, mastodon_server, django_capture_on_commit_callbacks
):
    bob = mastodon_server.client("bob")
    bob.status_post("@alice my account number is wrong on the invoice")
    [entry] = ingest_from_peer(alice)
    client.force_login(sales)
    page = client.get(f"/contacts/{entry.contact_id}/").content.decode()
    assert f'id="answer-{entry.pk}"' in page
    assert f'name="answer{entry.pk}-private" value="1"' in page

    contact_url = f"/contacts/{entry.contact_id}/"
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(
            client,
            entry,
            "Let's fix it in private: which invoice?",
            private=True,
            key="dm-1",
            htmx=False,
            next_url=contact_url,
        )
    assert response.status_code == 302 and response["Location"] == contact_url
    message = OutboundMessage.objects.get()
    assert message.kind == "dm" and message.state == "sent", message.last_error
    conversations = bob.conversations()
    assert len(conversations) == 1
    last = conversations[0]["last_status"]
    assert last["visibility"] == "direct" and "which invoice?" in last["content"]
    detail = client.get(contact_url).content.decode()
    assert "which invoice?" in detail and "kind-dm direction-out" in detail


def test_open_redirects_are_refused(client, sales, alice, mastodon_server):
    mastodon_server.client("bob").status_post("@alice hi")
    [entry] = ingest_from_peer(alice)
    client.force_login(sales)
    response = answer(client, entry, "", htmx=False, next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert not OutboundMessage.objects.exists()
