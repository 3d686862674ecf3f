"""Answering from the inbox, the contact page and the API, against real peers: the
answer reaches the peer exactly once, also when a send is retried or its worker dies."""

from datetime import timedelta

import pytest
from atproto import client_utils
from django.utils import timezone

from contacts.models import TimelineEntry
from crm.models import OutboundMessage
from crm.networks import adapter_for
from crm.outbox import outbound_deliver, outbound_reap
from crm.services import socialaccount_connect
from tests.conftest import api_as
from tests.crm.helpers import connect_mastodon, ingest_from_peer

pytestmark = [pytest.mark.django_db, pytest.mark.peers]


def _answer(client, entry, text, *, private=False, key="k-1", htmx=True, next_url=""):
    prefix = f"answer{entry.pk}"
    data = {
        f"{prefix}-text": text,
        f"{prefix}-private": "1" if private else "0",
        f"{prefix}-idempotency_key": key,
    }
    if next_url:
        data["next"] = next_url
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/inbox/{entry.pk}/answer/", data, **headers)


@pytest.fixture
def alice(mastodon_server, manager):
    return connect_mastodon(mastodon_server, "alice", actor=manager)


def _replies_by(server, username, to_status_id):
    api = server.client(username)
    me = api.me()
    return [
        s for s in api.account_statuses(me["id"]) if str(s["in_reply_to_id"]) == str(to_status_id)
    ]


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
        response = _answer(client, entry, "Sorry! It ships today.", key="inbox-once")
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
        again = _answer(client, entry, "Sorry! It ships today.", key="inbox-once")
    assert again.status_code == 200
    assert OutboundMessage.objects.count() == 1
    replies = _replies_by(mastodon_server, "alice", question["id"])
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
    assert len(_replies_by(mastodon_server, "alice", question["id"])) == 1


def test_retry_after_a_worker_died_mid_send_posts_once_on_mastodon(
    alice, sales, mastodon_server, django_capture_on_commit_callbacks
):
    """Mastodon deduplicates by Idempotency-Key: a send whose worker died after the
    request left is retried with the same key, and the instance keeps one status."""
    bob = mastodon_server.client("bob")
    question = bob.status_post("@alice is the shop open on Sunday?")
    [entry] = ingest_from_peer(alice)
    client = api_as(sales)
    with django_capture_on_commit_callbacks(execute=False):  # no worker picks it up yet
        response = client.post(
            f"/api/v1/interactions/{entry.pk}/reply/",
            {"text": "Yes, 10 to 14.", "idempotency_key": "api-retry-1"},
            format="json",
        )
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "pending" and body["idempotency_key"] == "api-retry-1"
    message = OutboundMessage.objects.get(pk=body["id"])

    # A worker claims it, its request reaches the instance, and it is killed.
    OutboundMessage.objects.filter(pk=message.pk).update(
        state="sending", created_at=timezone.now() - timedelta(hours=1)
    )
    adapter_for(alice).reply(
        in_reply_to=entry.external_id, text=message.text, idempotency_key=message.idempotency_key
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_reap() == 1  # re-queued with the same key (eager worker runs it)
    message.refresh_from_db()
    assert message.state == "sent"
    replies = _replies_by(mastodon_server, "alice", question["id"])
    assert len(replies) == 1
    assert message.external_id.endswith(f"/s/{replies[0]['id']}")
    assert TimelineEntry.objects.filter(direction="out").count() == 1

    # The API sees the message (202 for the same key again, nothing new queued).
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            f"/api/v1/interactions/{entry.pk}/reply/",
            {"text": "Yes, 10 to 14.", "idempotency_key": "api-retry-1"},
            format="json",
        )
    assert again.status_code == 202 and again.json()["id"] == message.pk
    assert again.json()["state"] == "sent"
    assert len(_replies_by(mastodon_server, "alice", question["id"])) == 1


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
        response = _answer(
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
    response = _answer(client, entry, "", htmx=False, next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert not OutboundMessage.objects.exists()


def _mention(sender, target, text):
    return sender.send_post(
        client_utils.TextBuilder().mention(f"@{target.handle}", target.did).text(text)
    )


def test_inbox_reply_reaches_bluesky_once_and_a_killed_send_is_not_resent(
    bsky, client, support, manager, django_capture_on_commit_callbacks
):
    brand_user = bsky.create_account("brandans")
    fan_user = bsky.create_account("fanans")
    brand = socialaccount_connect(
        network="bluesky",
        kind="brand",
        handle=brand_user.handle,
        base_url=bsky.pds_url,
        credentials={"app_password": brand_user.app_password},
        actor=manager,
    )
    fan = bsky.client(fan_user.handle, fan_user.app_password)
    post = _mention(fan, brand_user, " my order never arrived")
    bsky.process()
    [entry] = ingest_from_peer(brand)
    assert entry.kind == "mention" and entry.external_id == post.uri

    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(client, entry, "We are on it!", key="bsky-1")
    assert response.status_code == 200
    message = OutboundMessage.objects.get()
    assert message.state == "sent", message.last_error
    assert outbound_deliver(message_id=message.pk) is None  # a second delivery: nothing

    def replies():
        bsky.process()
        thread = fan.get_post_thread(post.uri, depth=1).thread
        return [r.post for r in (thread.replies or [])]

    [reply] = replies()
    assert reply.uri == message.external_id and reply.record.text == "We are on it!"
    assert reply.author.did == brand_user.did

    # A worker claims a second answer and is killed mid-send. Bluesky has no
    # idempotency key, so it is marked "unknown" for a person to check, never resent.
    with django_capture_on_commit_callbacks(execute=False):
        second = api_as(support).post(
            f"/api/v1/interactions/{entry.pk}/reply/",
            {"text": "Any news?", "idempotency_key": "bsky-2"},
            format="json",
        )
    stuck = OutboundMessage.objects.get(pk=second.json()["id"])
    OutboundMessage.objects.filter(pk=stuck.pk).update(
        state="sending", created_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_reap() == 1
    stuck.refresh_from_db()
    assert stuck.state == "unknown"
    assert outbound_deliver(message_id=stuck.pk) is None
    assert len(replies()) == 1
    shown = client.get(f"/outbox/{stuck.pk}/").content.decode()
    assert "Outcome unknown" in shown and "check the network" in shown
