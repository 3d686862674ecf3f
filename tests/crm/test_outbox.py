"""The outbox (``crm.outbox``): what Momento sends is recorded once per idempotency key,
claimed by one worker, and never sent blindly twice.

Against the real peers where they exist: the local Bluesky network has no idempotency
key (a second send would be a second post), mastodon-mock deduplicates by
``Idempotency-Key`` and injects 5xx and 429 faults. X has no local server: its HTTP is
intercepted with ``responses`` in X API v2's wire format.
"""

import contextlib
import re
import threading
from datetime import timedelta

import pytest
import responses
from celery.exceptions import Retry
from django.db import connection
from django.utils import timezone

from contacts.models import TimelineEntry
from crm.models import OutboundMessage, SocialAccount
from crm.networks import adapter_for
from crm.outbox import STALE_SENDING, RetryLater, outbound_deliver, outbound_queue, outbound_reap
from crm.services import socialaccount_connect
from crm.tasks import outbound_send
from tests.conftest import api_as
from tests.crm.helpers import (
    answer,
    bsky_mention,
    connect_mastodon,
    ingest_from_peer,
    replies_by,
    statuses_of,
)
from tests.crm.test_networks_x import API as X_API
from tests.crm.test_networks_x import KEYS as X_KEYS
from tests.crm.test_networks_x import ME as X_ME
from tests.factories import SocialAccountFactory, TimelineEntryFactory


@pytest.fixture
def alice(mastodon_server, manager):
    return connect_mastodon(mastodon_server, "alice", actor=manager)


def _bsky_posts(bsky, user) -> list[str]:
    """The texts of the posts ``user`` holds in its repository on the PDS."""
    client = bsky.client(user.handle, user.app_password)
    records = client.com.atproto.repo.list_records(
        {"repo": user.did, "collection": "app.bsky.feed.post"}
    ).records
    return [record.value.text for record in records]


def _x_account() -> SocialAccount:
    return SocialAccountFactory(
        network="x", handle="brand", external_id=X_ME, base_url="", credentials=X_KEYS
    )


def _x_mention(account: SocialAccount) -> TimelineEntry:
    return TimelineEntryFactory(
        kind="mention",
        network="x",
        external_id="1860000000000000001",
        account=account,
        direction="in",
        text="@brand my order never arrived",
    )


# -- claimed once ------------------------------------------------------------------------


@pytest.mark.peers
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_message_send_it_once(bsky):
    """Four workers are handed the same message at once (a redelivery, a duplicate
    task): one claims it, the others return at once, and Bluesky, which has no
    idempotency key, holds one post."""
    user = bsky.create_account("outclaim")
    account = SocialAccountFactory(
        network="bluesky",
        handle=user.handle,
        external_id=user.did,
        base_url=bsky.pds_url,
        credentials={"app_password": user.app_password},
    )
    message = OutboundMessage.objects.create(
        account=account, kind="post", text="Claimed by one worker", idempotency_key="claim-1"
    )
    start = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(outbound_deliver(message_id=message.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 4
    sent = [r for r in results if r is not None]
    assert len(sent) == 1 and sent[0].state == "sent"
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sent", 1)
    assert outbound_deliver(message_id=message.pk) is None
    assert _bsky_posts(bsky, user) == ["Claimed by one worker"]


# -- one message per idempotency key -----------------------------------------------------


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_first_message(django_capture_on_commit_callbacks):
    account = SocialAccountFactory(network="mastodon", base_url="http://127.0.0.1:9")
    with django_capture_on_commit_callbacks() as queued:
        first = outbound_queue(account=account, kind="post", text="First", idempotency_key="k")
        again = outbound_queue(account=account, kind="post", text="Second", idempotency_key="k")
    assert again.pk == first.pk and again.text == "First" and again.state == "pending"
    assert OutboundMessage.objects.count() == 1
    assert len(queued) == 1  # one send task: the second call queued nothing
    with django_capture_on_commit_callbacks() as queued:
        other = outbound_queue(account=account, kind="post", text="Second")
    assert other.pk != first.pk and len(queued) == 1  # no key given: a new message


@pytest.mark.django_db
def test_what_cannot_be_sent_is_refused_with_field_messages():
    from django.core.exceptions import ValidationError

    account = SocialAccountFactory(network="mastodon", base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError) as refused:
        outbound_queue(account=account, kind="reply", text="  ")
    assert set(refused.value.message_dict) == {"text", "in_reply_to"}
    with pytest.raises(ValidationError) as refused:
        outbound_queue(account=account, kind="dm", text="hi")
    assert set(refused.value.message_dict) == {"recipient"}
    with pytest.raises(ValidationError) as refused:
        outbound_queue(account=account, kind="poke")
    assert "kind" in refused.value.message_dict
    SocialAccount.objects.filter(pk=account.pk).update(state="needs_reconnect")
    account.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        outbound_queue(account=account, kind="post", text="hi")
    assert set(refused.value.message_dict) == {"account"}
    assert not OutboundMessage.objects.exists()


# -- an unknown outcome ------------------------------------------------------------------


@responses.activate
@pytest.mark.django_db
def test_an_unknown_outcome_is_never_resent_on_a_network_without_idempotency(
    django_capture_on_commit_callbacks,
):
    """X has no idempotency key: a 503 after the request left may still have posted the
    reply, so the message is marked unknown and no worker or reaper sends it again."""
    account = _x_account()
    entry = _x_mention(account)
    responses.post(
        f"{X_API}/tweets",
        status=503,
        json={
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "type": "about:blank",
            "status": 503,
        },
    )
    with django_capture_on_commit_callbacks():
        message = outbound_queue(
            account=account, kind="reply", text="We are on it", in_reply_to=entry
        )
    delivered = outbound_deliver(message_id=message.pk)
    assert delivered.state == "unknown" and "503" in delivered.last_error
    assert len(responses.calls) == 1
    assert outbound_deliver(message_id=message.pk) is None  # a redelivered task
    assert outbound_reap(now=timezone.now() + 2 * STALE_SENDING) == 0
    assert len(responses.calls) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("unknown", 1)
    assert not TimelineEntry.objects.filter(direction="out").exists()
    entry.refresh_from_db()
    assert entry.handled_at is None  # nobody knows it was answered: it stays in the inbox


@pytest.mark.peers
@pytest.mark.django_db
def test_a_server_error_on_mastodon_is_retried_with_the_same_key(
    alice, mastodon_server, django_capture_on_commit_callbacks
):
    """Mastodon deduplicates by Idempotency-Key: a 5xx is retried with backoff."""
    with django_capture_on_commit_callbacks():
        message = outbound_queue(account=alice, kind="post", text="Retried, once")
    mastodon_server.inject_fault(
        path="/api/v1/statuses", methods=["POST"], type="status", status=503, count=1
    )
    before = timezone.now()
    with pytest.raises(RetryLater) as later:
        outbound_deliver(message_id=message.pk)
    # 30 s × 2^attempts after the first attempt.
    assert before + timedelta(seconds=59) < later.value.at < timezone.now() + timedelta(seconds=61)
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 1) and "503" in message.last_error
    assert statuses_of(mastodon_server) == []

    assert outbound_deliver(message_id=message.pk).state == "sent"
    statuses = statuses_of(mastodon_server)
    assert len(statuses) == 1 and "Retried, once" in statuses[0]["content"]
    message.refresh_from_db()
    assert (message.attempts, message.last_error) == (2, "")


# -- rate limits -------------------------------------------------------------------------


@pytest.mark.peers
@pytest.mark.django_db
def test_a_rate_limit_is_retried_at_its_reset(
    alice, mastodon_server, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        message = outbound_queue(account=alice, kind="post", text="After the limit")
    mastodon_server.inject_fault(
        path="/api/v1/statuses", methods=["POST"], type="ratelimit", count=1
    )
    retried = {}

    def fake_retry(*args, **kwargs):
        retried.update(kwargs)
        raise Retry("retry", when=kwargs.get("eta"))

    monkeypatch.setattr(outbound_send, "retry", fake_retry)
    before = timezone.now()
    with pytest.raises(Retry):
        outbound_send.run(message.pk)
    # The mock sends X-RateLimit-Reset as epoch seconds, now + 300.
    assert before + timedelta(seconds=295) < retried["eta"] < before + timedelta(seconds=305)
    message.refresh_from_db()
    assert message.state == "pending" and "rate limit" in message.last_error
    assert statuses_of(mastodon_server) == []

    assert outbound_send.run(message.pk) == "sent"  # the retry, at the reset
    assert len(statuses_of(mastodon_server)) == 1


# -- rejected credentials ----------------------------------------------------------------


@responses.activate
@pytest.mark.django_db
def test_rejected_credentials_fail_the_message_and_mark_the_account(
    django_capture_on_commit_callbacks,
):
    account = _x_account()
    entry = _x_mention(account)
    responses.post(
        re.compile(rf"{X_API}/tweets"),
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with django_capture_on_commit_callbacks():
        message = outbound_queue(account=account, kind="reply", text="Hi", in_reply_to=entry)
    assert outbound_deliver(message_id=message.pk).state == "failed"
    account.refresh_from_db()
    assert account.state == "needs_reconnect" and "Unauthorized" in account.last_error
    assert outbound_deliver(message_id=message.pk) is None
    assert len(responses.calls) == 1


# -- the reaper --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reaper_retries_only_where_the_network_dedupes(django_capture_on_commit_callbacks):
    """Messages a dead worker left in ``sending``: re-queued with their key on Mastodon,
    ``unknown`` elsewhere; recent ones and those in any other state are left alone."""
    now = timezone.now()
    mastodon = SocialAccountFactory(
        network="mastodon", base_url="http://127.0.0.1:9", credentials={"access_token": "t"}
    )
    bluesky = SocialAccountFactory(network="bluesky")
    x = _x_account()

    def message(account, state, age):
        created = OutboundMessage.objects.create(
            account=account, kind="post", text="t", idempotency_key=f"{account.pk}-{state}-{age}"
        )
        OutboundMessage.objects.filter(pk=created.pk).update(state=state, created_at=now - age)
        return created.pk

    old, young = STALE_SENDING + timedelta(minutes=1), STALE_SENDING - timedelta(minutes=1)
    retried = message(mastodon, "sending", old)
    unknown = [message(bluesky, "sending", old), message(x, "sending", old)]
    untouched = {
        message(mastodon, "sending", young): "sending",
        message(bluesky, "sending", young): "sending",
        message(mastodon, "pending", old): "pending",
        message(bluesky, "sent", old): "sent",
        message(x, "failed", old): "failed",
    }
    with django_capture_on_commit_callbacks() as queued:
        assert outbound_reap(now=now) == 3
    assert len(queued) == 1  # the Mastodon message's send, with the same key
    states = dict(OutboundMessage.objects.values_list("pk", "state"))
    assert states[retried] == "pending"
    assert [states[pk] for pk in unknown] == ["unknown", "unknown"]
    assert {pk: states[pk] for pk in untouched} == untouched
    assert "check the network" in OutboundMessage.objects.get(pk=unknown[0]).last_error
    with django_capture_on_commit_callbacks() as queued:
        assert outbound_reap(now=now) == 0
    assert queued == []

    # The Mastodon message says what happened, and the attempt that died may have
    # posted it: when the instance cannot be reached afterwards (nothing listens on
    # port 9), it ends unknown, never "nothing was posted".
    reaped = OutboundMessage.objects.get(pk=retried)
    assert reaped.maybe_posted
    assert reaped.failure_text == "Sending was interrupted; trying again under the same key."
    for _attempt in range(5):
        with contextlib.suppress(RetryLater):
            outbound_deliver(message_id=retried)
    reaped.refresh_from_db()
    assert (reaped.state, reaped.failure, reaped.attempts) == ("unknown", "no_answer", 5)
    assert "may or may not" in reaped.failure_text


@pytest.mark.peers
@pytest.mark.django_db
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
    replies = replies_by(mastodon_server, "alice", question["id"])
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
    assert len(replies_by(mastodon_server, "alice", question["id"])) == 1


@pytest.mark.peers
@pytest.mark.django_db
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
    post = bsky_mention(fan, brand_user, " my order never arrived")
    bsky.process()
    [entry] = ingest_from_peer(brand)
    assert entry.kind == "mention" and entry.external_id == post.uri

    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, entry, "We are on it!", key="bsky-1")
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
    assert "Outcome unknown" in shown
    assert "Sending was interrupted, so it may or may not be on Bluesky." in shown
    assert "Check there before you send it again." in shown
