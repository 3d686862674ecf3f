"""Bluesky: the adapter and the sync engine against a real local Bluesky network
(PLC, PDS, AppView from @atproto/dev-env). Its chat service is absent, so DMs are
tested on answers in chat.bsky's own JSON format, intercepted with respx while every
other request goes to the real network."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
import respx
from atproto import client_utils, models

from contacts.models import SocialIdentity, StageChange, TimelineEntry
from contacts.services import FOLLOW_RULE
from crm.ingest import ingest_interactions
from crm.models import SocialAccount
from crm.networks import adapter_for
from crm.networks.base import AuthError, StreamState
from crm.networks.bluesky import Adapter
from crm.selectors import socialaccount_backfill_percent
from crm.sync import sync_account_run
from tests.crm.helpers import bsky_account

pytestmark = pytest.mark.peers
EXPECTED = {"mention", "reply", "quote", "like", "repost", "follow"}


def _wait_for(bsky, client, reasons: set[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = {
            n.reason
            for n in client.app.bsky.notification.list_notifications(
                params={"limit": 100}
            ).notifications
        }
        if reasons <= got or time.monotonic() > deadline:
            assert reasons <= got, f"notifications so far: {got}"
            return
        bsky.process()
        time.sleep(0.3)


@pytest.fixture
def chat():
    """The chat service the local network lacks: an empty inbox in chat.bsky's format
    unless a test routes more; every other request goes to the real network."""
    with respx.mock(assert_all_called=False) as mock:
        mock.get(path__regex=r"/xrpc/chat\.bsky\.convo\.listConvos$", name="listConvos").respond(
            200, json={"convos": []}
        )
        mock.route(name="network").pass_through()
        yield mock


def _brand_account(bsky, brand, **kw) -> SocialAccount:
    return bsky_account(bsky, brand, **kw)


@pytest.fixture(scope="module")
def scene(bsky):
    """Brand posts; Alice mentions, replies, quotes, likes, reposts and follows; Bob
    follows and likes Alice's mention; the brand follows Alice (so she has a follower)."""
    brand, alice, bob = (bsky.create_account(n) for n in ("brand", "alice", "bob"))
    b = bsky.client(brand.handle, brand.password)
    a = bsky.client(alice.handle, alice.password)
    o = bsky.client(bob.handle, bob.password)
    parent = b.send_post("Our new plan is out")
    ref = models.create_strong_ref(parent)
    bsky.process()
    time.sleep(2)  # the AppView may drop a reply notification whose parent is brand new
    mention = a.send_post(
        client_utils.TextBuilder()
        .text("Hi ")
        .mention(f"@{brand.handle}", brand.did)
        .text(' my order never arrived <script>alert("x")</script> \u202eok 🚀'),
    )
    reply = a.send_post(
        "Is it available in Spain?", reply_to=models.AppBskyFeedPost.ReplyRef(parent=ref, root=ref)
    )
    quote = a.send_post("Look at this", embed=models.AppBskyEmbedRecord.Main(record=ref))
    a.like(parent.uri, parent.cid)
    a.repost(parent.uri, parent.cid)
    a.follow(brand.did)
    o.follow(brand.did)
    o.like(mention.uri, mention.cid)
    b.follow(alice.did)
    bsky.process()
    _wait_for(bsky, b, EXPECTED)
    return {
        "brand": brand,
        "alice": alice,
        "bob": bob,
        "parent": parent,
        "mention": mention,
        "reply": reply,
        "quote": quote,
    }


def test_verify_and_wrong_password(bsky, scene):
    brand = scene["brand"]
    me = Adapter.from_credentials(
        base_url=bsky.pds_url, handle=brand.handle, credentials={"app_password": brand.app_password}
    ).verify()
    assert (me.external_id, me.handle) == (brand.did, brand.handle)
    with pytest.raises(AuthError):
        Adapter.from_credentials(
            base_url=bsky.pds_url, handle=brand.handle, credentials={"app_password": "wrong-pass"}
        ).verify()


def test_sync_lands_every_kind_on_the_right_contact(db, bsky, scene, chat):
    account = _brand_account(bsky, scene["brand"])
    result = sync_account_run(account_id=account.pk, max_pages=10)
    assert result.created >= 7

    alice = SocialIdentity.objects.get(network="bluesky", external_id=scene["alice"].did)
    kinds = {e.kind: e for e in alice.contact.timeline.filter(network="bluesky")}
    assert set(kinds) == EXPECTED
    assert kinds["mention"].external_id == scene["mention"].uri
    assert kinds["reply"].external_id == scene["reply"].uri
    assert kinds["reply"].in_reply_to == scene["parent"].uri
    assert kinds["quote"].in_reply_to == scene["parent"].uri
    assert kinds["like"].in_reply_to == scene["parent"].uri
    assert kinds["mention"].text.endswith('<script>alert("x")</script> \u202eok 🚀')
    assert kinds["mention"].intent == "complaint"
    assert kinds["mention"].like_count == 1  # Bob liked it
    assert all(e.account_id == account.pk for e in kinds.values())
    assert alice.follower_count == 1
    assert alice.profile_url == f"https://bsky.app/profile/{scene['alice'].handle}"
    bob = SocialIdentity.objects.get(network="bluesky", external_id=scene["bob"].did)
    assert [e.kind for e in bob.contact.timeline.filter(network="bluesky")] == ["follow"]

    # A follower moves to stage 1, recorded as a stage change by the rule.
    alice.contact.refresh_from_db()
    assert alice.contact.stage == 1
    assert StageChange.objects.get(contact=alice.contact).rule == FOLLOW_RULE

    account.refresh_from_db()
    newest = TimelineEntry.objects.filter(account=account, kind__in=EXPECTED).latest("occurred_at")
    stream = account.streams.get(name="notifications")
    assert stream.cursor.endswith("|" + newest.external_id) and not stream.walking
    assert account.last_synced_at is not None and account.last_error == ""
    assert account.items_synced == result.created
    # A session was stored, so the next run does not log in with the password again.
    assert account.credentials["session"]

    count = TimelineEntry.objects.count()
    again = sync_account_run(account_id=account.pk)
    assert again.created == 0
    assert TimelineEntry.objects.count() == count

    # Something new arrives: only that is added.
    a = bsky.client(scene["alice"].handle, scene["alice"].password)
    newer = a.send_post(
        client_utils.TextBuilder()
        .mention(f"@{scene['brand'].handle}", scene["brand"].did)
        .text(" thanks!")
    )
    deadline = time.monotonic() + 20
    while True:
        bsky.process()
        third = sync_account_run(account_id=account.pk)
        if third.created or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert third.created == 1
    assert TimelineEntry.objects.get(external_id=newer.uri).kind == "mention"


def test_backfill_walks_history_in_pages(db, bsky, scene, chat):
    from crm.sync import backfill_step

    account = _brand_account(bsky, scene["brand"], backfill_state="queued")
    steps = 0
    while backfill_step(account_id=account.pk, page_limit=3):
        steps += 1
        assert steps < 20
    account.refresh_from_db()
    assert account.backfill_state == "done" and socialaccount_backfill_percent(account) == 100
    assert account.backfill_pages >= 3
    assert account.backfill_items == TimelineEntry.objects.filter(account=account).count() >= 7


def test_rate_limit_carries_the_reset_header(db, bsky, scene):
    account = _brand_account(bsky, scene["brand"])
    reset = int(time.time()) + 120
    with respx.mock(assert_all_called=False) as mock:
        mock.get(path__regex=r"/xrpc/app\.bsky\.notification\.listNotifications$").respond(
            429,
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            headers={
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "3000;w=300",
            },
        )
        mock.route().pass_through()
        result = sync_account_run(account_id=account.pk)
    notifications = account.streams.get(name="notifications")
    assert notifications.retry_at == datetime.fromtimestamp(reset, tz=UTC)
    assert notifications.error_code == result.outcomes["notifications"].code == "rate_limited"
    assert "rate limit" in result.errors["notifications"]
    account.refresh_from_db()
    assert account.next_sync_at <= notifications.retry_at
    assert account.sync_lease_token == ""  # released


def test_rejected_password_marks_account_needs_reconnect(db, bsky, scene):
    account = _brand_account(bsky, scene["brand"])
    account.credentials = {"app_password": "nope-nope-nope-nope"}
    account.save()
    with pytest.raises(AuthError):
        sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == "needs_reconnect" and account.last_error
    # It is not tried again until reconnected.
    assert sync_account_run(account_id=account.pk).skipped


# -- DMs on chat.bsky's own JSON, everything else on the real network ------------------


def _profile(acct) -> dict:
    return {
        "did": acct.did,
        "handle": acct.handle,
        "displayName": acct.handle.split(".")[0],
        "labels": [],
        "chatDisclosure": {"allowIncoming": "all"},
    }


def _message(mid, rev, sender, text, sent_at) -> dict:
    return {
        "$type": "chat.bsky.convo.defs#messageView",
        "id": mid,
        "rev": rev,
        "text": text,
        "sender": {"did": sender},
        "sentAt": sent_at,
    }


def test_dms_through_chat_api(db, bsky, scene):
    brand, alice = scene["brand"], scene["alice"]
    account = _brand_account(bsky, brand)
    convo_id = "3lconvoabc"
    messages = [
        _message(
            "3lmsg3", "2223", brand.did, "Sure, DM me your order number", "2026-11-20T10:02:00.000Z"
        ),
        _message(
            "3lmsg2", "2222", alice.did, "My router is broken 😡 \u200f", "2026-11-20T10:01:00.000Z"
        ),
        {
            "$type": "chat.bsky.convo.defs#messageView",
            "id": "3lmsgX",
            "rev": "2221",
            "sender": {},
            "sentAt": "2026-11-20T10:00:30.000Z",
            "text": "no sender",
        },
        _message("3lmsg1", "2220", alice.did, "Hi!", "2026-11-20T10:00:00.000Z"),
    ]
    convo = {
        "id": convo_id,
        "rev": "2223",
        "members": [_profile(brand), _profile(alice)],
        "lastMessage": messages[0],
        "muted": False,
        "unreadCount": 2,
        "status": "accepted",
    }
    sent = []
    with respx.mock(assert_all_called=False) as mock:
        list_route = mock.get(path__regex=r"/xrpc/chat\.bsky\.convo\.listConvos$").respond(
            200, json={"convos": [convo]}
        )
        mock.get(path__regex=r"/xrpc/chat\.bsky\.convo\.getMessages$").respond(
            200, json={"messages": messages}
        )

        def send(request):
            sent.append(request)
            body = httpx.Response(
                200, json=_message("3lmsg4", "2224", brand.did, "ok", "2026-11-20T10:03:00.000Z")
            )
            return body

        mock.post(path__regex=r"/xrpc/chat\.bsky\.convo\.sendMessage$").mock(side_effect=send)
        mock.get(path__regex=r"/xrpc/chat\.bsky\.convo\.getConvo$").respond(
            200, json={"convo": convo}
        )
        mock.route().pass_through()

        adapter = adapter_for(account)
        # A first poll reads each conversation's history and ends with the forward
        # cursor: the newest rev of each conversation at the start.
        page = adapter.fetch_page("dms", StreamState(), limit=100)
        assert not page.more and not page.state.walking
        assert json.loads(page.state.cursor) == {convo_id: "2223"}
        assert [i.external_id for i in page.items] == ["3lmsg1", "3lmsg2", "3lmsg3"]
        assert [f.external_id for f in page.failed] == ["3lmsgX"]
        assert [i.direction for i in page.items] == ["in", "in", "out"]
        assert {i.author.external_id for i in page.items} == {alice.did}
        assert {i.thread_id for i in page.items} == {convo_id}
        stats = ingest_interactions(account=account, items=page.items, failed=page.failed)
        assert stats.created == 3 and stats.failed == 1

        # The cursor remembers the conversation's newest message: nothing new next time.
        again = adapter.fetch_page("dms", page.state, limit=100)
        assert again.items == [] and again.state.cursor == page.state.cursor

        result = adapter.send_dm(
            recipient=page.items[0].author,
            text="ok",
            thread_id=convo_id,
            idempotency_key="k1",
        )
        assert result.external_id == "3lmsg4" and result.thread_id == convo_id
        assert sent[0].headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
        assert list_route.calls[0].request.headers["atproto-proxy"].endswith("#bsky_chat")

    alice_contact = SocialIdentity.objects.get(external_id=alice.did).contact
    dms = list(alice_contact.timeline.filter(kind="dm").order_by("occurred_at"))
    assert [e.direction for e in dms] == ["in", "in", "out"]
    assert dms[1].text == "My router is broken 😡 \u200f"


def test_search_and_reply_on_the_real_network(db, bsky, scene):
    account = _brand_account(bsky, scene["brand"])
    adapter = adapter_for(account)
    found = adapter.search("new plan", None)
    assert scene["parent"].uri in [i.external_id for i in found.items]
    assert {i.kind for i in found.items} == {"post"}
    sent = adapter.reply(
        in_reply_to=scene["reply"].uri, text="Yes, from December!", idempotency_key="r1"
    )
    assert sent.external_id.startswith(f"at://{scene['brand'].did}/app.bsky.feed.post/")
    assert sent.thread_id == scene["parent"].uri
