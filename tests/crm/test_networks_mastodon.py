"""Mastodon: the adapter and the sync engine against mastodon-mock on loopback, and,
for what the mock does not do (quote notifications, ISO-8601 reset times), answers in
real Mastodon's JSON format served with ``responses``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.utils import timezone

from contacts.models import SocialIdentity, StageChange, TimelineEntry
from contacts.services import FOLLOW_RULE
from crm.models import SyncStream
from crm.networks import adapter_for
from crm.networks.base import AuthError, RateLimited, StreamState
from crm.networks.mastodon import Adapter
from crm.selectors import socialaccount_backfill_percent
from crm.sync import backfill_step, sync_account_run
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.peers


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice", "bob"]


@pytest.fixture
def account(db, mastodon_server):
    return SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )


def _host(server) -> str:
    return server.base_url.removeprefix("http://")


def test_verify_and_bad_token(mastodon_server):
    me = Adapter.from_credentials(
        base_url=mastodon_server.base_url,
        handle="brand",
        credentials={"access_token": mastodon_server.tokens["brand"]},
    ).verify()
    assert me.handle.startswith("brand@") and me.external_id == me.handle
    with pytest.raises(AuthError):
        Adapter.from_credentials(
            base_url=mastodon_server.base_url, handle="brand", credentials={"access_token": "nope"}
        ).verify()


def test_sync_lands_every_kind_and_dms(account, mastodon_server):
    brand, alice, bob = (mastodon_server.client(n) for n in ("brand", "alice", "bob"))
    brand_id = brand.me()["id"]
    post = brand.status_post("Our new fibre plan is out")
    mention = alice.status_post("@brand my bill is wrong again!! <script>x</script>")
    reply = alice.status_post("@brand is it in Spain?", in_reply_to_id=post["id"])
    alice.status_reblog(post["id"])
    alice.status_favourite(post["id"])
    alice.account_follow(brand_id)
    dm = bob.status_post("@brand my router is broken 😡", visibility="direct")
    brand.status_post(
        "@bob send us your order number", visibility="direct", in_reply_to_id=dm["id"]
    )

    result = sync_account_run(account_id=account.pk)
    host = _host(mastodon_server)

    alice_identity = SocialIdentity.objects.get(network="mastodon", handle__startswith="alice@")
    timeline = {e.kind: e for e in alice_identity.contact.timeline.filter(network="mastodon")}
    assert set(timeline) == {"mention", "reply", "repost", "like", "follow"}
    assert timeline["mention"].external_id == f"{host}/s/{mention['id']}"
    assert timeline["mention"].text == "@brand my bill is wrong again!! <script>x</script>"
    assert timeline["mention"].intent == "complaint"
    assert timeline["reply"].external_id == f"{host}/s/{reply['id']}"
    assert timeline["reply"].in_reply_to == f"{host}/s/{post['id']}"
    assert timeline["like"].in_reply_to == f"{host}/s/{post['id']}"
    assert alice_identity.profile_url.endswith("/@alice")
    assert alice_identity.follower_count == 0

    bob_identity = SocialIdentity.objects.get(network="mastodon", handle__startswith="bob@")
    dms = list(bob_identity.contact.timeline.filter(kind="dm").order_by("occurred_at"))
    assert [(e.direction, e.text) for e in dms] == [
        ("in", "@brand my router is broken 😡"),
        ("out", "@bob send us your order number"),
    ]
    assert alice_identity.contact.stage == 1
    assert StageChange.objects.get(contact=alice_identity.contact).rule == FOLLOW_RULE
    assert result.created == 7

    again = sync_account_run(account_id=account.pk)
    assert again.created == 0
    assert TimelineEntry.objects.filter(network="mastodon").count() == 7


def test_reply_is_sent_once_with_idempotency_key(account, mastodon_server):
    alice = mastodon_server.client("alice")
    question = alice.status_post("@brand do you ship to Spain?")
    adapter = adapter_for(account)
    target = f"{_host(mastodon_server)}/s/{question['id']}"
    first = adapter.reply(in_reply_to=target, text="Yes we do!", idempotency_key="reply-1")
    second = adapter.reply(in_reply_to=target, text="Yes we do!", idempotency_key="reply-1")
    assert first.external_id == second.external_id
    brand = mastodon_server.client("brand")
    statuses = brand.account_statuses(brand.me()["id"])
    assert len(statuses) == 1
    assert "@alice Yes we do!" in statuses[0]["content"]
    assert str(statuses[0]["in_reply_to_id"]) == str(question["id"])


def _due(account) -> None:
    """Make every stream's retry time come now (instead of waiting for it)."""
    SyncStream.objects.filter(account=account).exclude(retry_at=None).update(
        retry_at=timezone.now() - timedelta(seconds=1)
    )


def test_rate_limit_fault_retries_the_stream_at_the_reset_time(account, mastodon_server):
    mastodon_server.inject_fault(path="/api/v1/notifications", type="ratelimit", count=1)
    before = datetime.now(UTC)
    result = sync_account_run(account_id=account.pk)
    notifications = account.streams.get(name="notifications")
    # The mock sends X-RateLimit-Reset as epoch seconds, now + 300.
    assert (
        before + timedelta(seconds=295) < notifications.retry_at < before + timedelta(seconds=305)
    )
    assert (notifications.status, notifications.error_code, notifications.failures) == (
        "retrying",
        "rate_limited",
        1,
    )
    assert (
        set(result.errors) == {"notifications"} and "rate limit" in result.errors["notifications"]
    )
    # The other stream synced, and the account's next sync is not delayed by this one.
    assert result.outcomes["dms"].code == "" and account.streams.get(name="dms").status == "ok"
    account.refresh_from_db()
    assert account.next_sync_at <= account.last_synced_at + timedelta(seconds=60)
    assert account.state == "active" and account.consecutive_failures == 0
    # Until the reset the stream is not asked at all.
    waiting = sync_account_run(account_id=account.pk)
    assert waiting.outcomes["notifications"].code == "waiting" and not waiting.errors
    # Once it is due, the next run goes through and clears the error.
    _due(account)
    sync_account_run(account_id=account.pk)
    notifications.refresh_from_db()
    assert (notifications.error_code, notifications.failures, notifications.retry_at) == (
        "",
        0,
        None,
    )


def test_server_errors_back_off_per_stream_then_mark_error(account, mastodon_server):
    mastodon_server.inject_fault(
        path="/api/v1/notifications", type="status", status=503, count=None
    )
    delays = []
    for _ in range(5):
        _due(account)
        started = timezone.now()
        sync_account_run(account_id=account.pk)
        notifications = account.streams.get(name="notifications")
        delays.append(round((notifications.retry_at - started).total_seconds()))
    # 30 s, 60 s, 120 s … on the failing stream alone.
    assert [abs(d - b) <= 2 for d, b in zip(delays, (30, 60, 120, 240, 480), strict=True)] == [
        True
    ] * 5
    assert (notifications.error_code, notifications.error_params) == (
        "server_error",
        {"network": "Mastodon", "status": 503},
    )
    account.refresh_from_db()
    assert account.state == "active"  # DMs still sync: one stream never fails the account
    assert account.streams.get(name="dms").failures == 0

    # When every stream fails ERROR_AFTER times in a row, the account shows "error".
    mastodon_server.clear_faults()
    mastodon_server.inject_fault(
        path_regex=r"^/api/v1/(notifications|conversations)", type="status", status=503, count=None
    )
    for _ in range(5):
        _due(account)
        sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == "error", list(account.streams.values("name", "failures", "error_code"))
    mastodon_server.clear_faults()
    _due(account)
    sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == "active"


def test_backfill_in_bounded_batches(account, mastodon_server):
    alice = mastodon_server.client("alice")
    for n in range(7):
        alice.status_post(f"@brand question number {n}?")
    account.backfill_state = "queued"
    account.save()
    more, steps = True, 0
    while more:
        more = backfill_step(account_id=account.pk, page_limit=3)
        steps += 1
        account.refresh_from_db()
        assert account.backfill_state in ("running", "done")
        assert steps < 10
    assert account.backfill_state == "done" and socialaccount_backfill_percent(account) == 100
    assert account.backfill_items == 7
    assert account.backfill_pages >= 3


# -- what the mock does not do, on real Mastodon JSON ----------------------------------

BASE = "https://social.example"


def _account_json(n: str, followers: int = 12) -> dict:
    return {
        "id": str(100 + len(n)),
        "username": n,
        "acct": n,
        "display_name": n.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2025-01-01T00:00:00.000Z",
        "note": "",
        "url": f"{BASE}/@{n}",
        "uri": f"{BASE}/users/{n}",
        "avatar": f"{BASE}/avatars/{n}.png",
        "avatar_static": f"{BASE}/avatars/{n}.png",
        "header": "",
        "header_static": "",
        "followers_count": followers,
        "following_count": 3,
        "statuses_count": 40,
        "last_status_at": "2026-11-20",
        "emojis": [],
        "fields": [],
    }


def _status_json(sid: str, account: dict, html: str, **kw) -> dict:
    status = {
        "id": sid,
        "created_at": "2026-11-20T10:00:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"{BASE}/users/{account['username']}/statuses/{sid}",
        "url": f"{BASE}/@{account['username']}/{sid}",
        "replies_count": 2,
        "reblogs_count": 5,
        "favourites_count": 9,
        "edited_at": None,
        "content": html,
        "reblog": None,
        "application": None,
        "account": account,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
        "quote": None,
    }
    status.update(kw)
    return status


@responses.activate
def test_quote_notification_and_malformed_item_in_real_format(db):
    ours = _status_json("109", _account_json("brand"), "<p>Our plan</p>")
    quoting = _status_json(
        "110",
        _account_json("carla", followers=5400),
        "<p>Look at this &amp; weep<br>really</p>",
        quote={"state": "accepted", "quoted_status": ours},
    )
    notes = [
        {
            "id": "39",
            "type": "quote",
            "created_at": "2026-11-20T10:00:01.000Z",
            "group_key": "ungrouped-39",
            "account": quoting["account"],
            "status": quoting,
        },
        {
            "id": "40",
            "type": "favourite",
            "created_at": "2026-11-20T10:00:02.000Z",
            "group_key": "ungrouped-40",
            "account": None,
            "status": ours,
        },
    ]
    responses.get(f"{BASE}/api/v1/notifications", json=notes)
    adapter = Adapter(base_url=BASE, handle="brand", credentials={"access_token": "t"})
    page = adapter.fetch_page("notifications", StreamState(cursor="38"), limit=80)
    assert responses.calls[0].request.params["min_id"] == "38"
    assert responses.calls[0].request.params["limit"] == "80"
    [quote] = page.items
    assert (quote.kind, quote.external_id) == ("quote", "social.example/s/110")
    assert quote.in_reply_to == "social.example/s/109"
    assert quote.text == "Look at this & weep\nreally"
    assert (quote.like_count, quote.repost_count, quote.reply_count) == (9, 5, 2)
    assert quote.author.follower_count == 5400 and quote.author.handle == "carla@social.example"
    assert [f.external_id for f in page.failed] == ["social.example/n/40"]
    assert (page.state.cursor, page.state.walking, page.more) == ("40", False, True)

    account = SocialAccountFactory(network="mastodon", handle="brand", base_url=BASE)
    from crm.ingest import ingest_interactions

    stats = ingest_interactions(account=account, items=page.items, failed=page.failed)
    assert (stats.created, stats.failed) == (1, 1)


@responses.activate
def test_iso_8601_reset_header():
    reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    responses.get(
        f"{BASE}/api/v1/notifications",
        status=429,
        json={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        },
    )
    adapter = Adapter(base_url=BASE, handle="brand", credentials={"access_token": "t"})
    with pytest.raises(RateLimited) as excinfo:
        adapter.fetch_page("notifications", StreamState(), limit=80)
    assert excinfo.value.reset_at == reset
    assert (excinfo.value.code, excinfo.value.params) == ("rate_limited", {"network": "Mastodon"})
