"""X: no local server exists and tweepy's host is fixed, so HTTP is intercepted with
``responses`` serving X API v2's own wire format."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import responses
from django.utils import translation

from contacts.models import SocialIdentity, StageChange, TimelineEntry
from contacts.services import FOLLOW_RULE
from crm.networks.base import AuthError
from crm.networks.x import Adapter
from crm.selectors import syncstream_gap_text
from crm.sync import sync_account_run
from tests.factories import SocialAccountFactory

API = "https://api.twitter.com/2"
ME = "2244994945"
KEYS = {
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "at",
    "access_token_secret": "ats",
    "bearer_token": "bt",
}


def user(uid: str, username: str, followers: int = 10) -> dict:
    return {
        "id": uid,
        "name": username.title(),
        "username": username,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{uid}/normal.jpg",
        "public_metrics": {
            "followers_count": followers,
            "following_count": 5,
            "tweet_count": 99,
            "listed_count": 0,
            "like_count": 3,
        },
    }


def tweet(tid: str, author: str, text: str, **kw) -> dict:
    data = {
        "id": tid,
        "text": text,
        "author_id": author,
        "created_at": "2026-11-20T10:00:00.000Z",
        "conversation_id": kw.pop("conversation_id", tid),
        "edit_history_tweet_ids": [tid],
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": 4,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 80,
        },
    }
    data.update(kw)
    return data


MENTIONS = {
    "data": [
        tweet(
            "1860000000000000003",
            "1111",
            "@brand this is a quote",
            referenced_tweets=[{"type": "quoted", "id": "1850000000000000000"}],
        ),
        tweet(
            "1860000000000000002",
            "1111",
            "@brand is it in Spain?",
            referenced_tweets=[{"type": "replied_to", "id": "1850000000000000000"}],
            in_reply_to_user_id=ME,
            conversation_id="1850000000000000000",
        ),
        tweet(
            "1860000000000000001",
            "1111",
            "@brand my order never arrived!! <script>alert(1)</script>",
        ),
        {
            "id": "1860000000000000000",
            "text": "no author",
            "created_at": "2026-11-20T09:00:00.000Z",
        },
    ],
    "includes": {
        "users": [user("1111", "ana", followers=320)],
        "tweets": [tweet("1850000000000000000", ME, "Our new plan")],
    },
    "meta": {
        "newest_id": "1860000000000000003",
        "oldest_id": "1860000000000000000",
        "result_count": 4,
    },
}
DMS = {
    "data": [
        {
            "id": "1870000000000000002",
            "text": "Please send your order number",
            "event_type": "MessageCreate",
            "dm_conversation_id": f"1111-{ME}",
            "created_at": "2026-11-20T11:01:00.000Z",
            "sender_id": ME,
        },
        {
            "id": "1870000000000000001",
            "text": "My router is broken 😡",
            "event_type": "MessageCreate",
            "dm_conversation_id": f"1111-{ME}",
            "created_at": "2026-11-20T11:00:00.000Z",
            "sender_id": "1111",
        },
    ],
    "includes": {"users": [user("1111", "ana", followers=320), user(ME, "brand")]},
    "meta": {"result_count": 2},
}
FOLLOWERS = {
    "data": [user("2222", "bo", followers=7), user("1111", "ana", followers=320)],
    "meta": {"result_count": 2},
}


def serve_all():
    responses.get(re.compile(rf"{API}/users/{ME}/mentions.*"), json=MENTIONS)
    responses.get(re.compile(rf"{API}/dm_events.*"), json=DMS)
    responses.get(re.compile(rf"{API}/users/{ME}/followers.*"), json=FOLLOWERS)


@pytest.fixture
def account(db):
    return SocialAccountFactory(
        network="x", handle="brand", external_id=ME, base_url="", credentials=KEYS
    )


@responses.activate
def test_verify_reads_users_me():
    responses.get(
        re.compile(rf"{API}/users/me.*"), json={"data": user(ME, "brand", followers=5000)}
    )
    me = Adapter.from_credentials(base_url="", handle="brand", credentials=KEYS).verify()
    assert (me.external_id, me.handle, me.follower_count) == (ME, "brand", 5000)
    assert responses.calls[0].request.headers["Authorization"].startswith("OAuth ")


@responses.activate
def test_sync_mentions_dms_followers(account):
    serve_all()
    result = sync_account_run(account_id=account.pk)
    assert result.created == 7 and result.failed == 1
    ana = SocialIdentity.objects.get(network="x", external_id="1111")
    assert (ana.handle, ana.follower_count, ana.profile_url) == ("ana", 320, "https://x.com/ana")
    kinds = sorted(ana.contact.timeline.filter(network="x").values_list("kind", "direction"))
    assert kinds == [
        ("dm", "in"),
        ("dm", "out"),
        ("follow", "in"),
        ("mention", "in"),
        ("quote", "in"),
        ("reply", "in"),
    ]
    reply = TimelineEntry.objects.get(external_id="1860000000000000002")
    assert reply.in_reply_to == "1850000000000000000"
    assert reply.thread_id == "1850000000000000000"
    assert reply.url == "https://x.com/ana/status/1860000000000000002"
    assert (reply.like_count, reply.reply_count) == (4, 2)
    mention = TimelineEntry.objects.get(external_id="1860000000000000001")
    assert mention.text.endswith("<script>alert(1)</script>")
    assert TimelineEntry.objects.get(external_id="1870000000000000001").thread_id == f"1111-{ME}"
    bo = SocialIdentity.objects.get(network="x", external_id="2222").contact
    assert bo.stage == 1 and StageChange.objects.get(contact=bo).rule == FOLLOW_RULE

    cursors = dict(account.streams.values_list("name", "cursor"))
    assert cursors["mentions"] == "1860000000000000003"
    assert cursors["dms"] == "1870000000000000002"
    assert not account.streams.filter(walking=True).exists()
    mentions_call = next(c for c in responses.calls if "/mentions" in c.request.url)
    assert "expansions=author_id" in mentions_call.request.url

    # Second sync: since_id is just below the cursor (so the cursor's own tweet shows
    # that the walk reached it); X answers with no newer data.
    responses.reset()
    responses.get(re.compile(rf"{API}/users/{ME}/mentions.*"), json={"meta": {"result_count": 0}})
    responses.get(re.compile(rf"{API}/dm_events.*"), json=DMS)
    responses.get(re.compile(rf"{API}/users/{ME}/followers.*"), json=FOLLOWERS)
    again = sync_account_run(account_id=account.pk)
    assert again.created == 0
    assert "since_id=1860000000000000002" in responses.calls[0].request.url
    assert not account.streams.filter(walking=True).exists()


@responses.activate
def test_429_retries_at_x_rate_limit_reset(account):
    responses.get(
        re.compile(rf"{API}/users/{ME}/mentions.*"),
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "75",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1795000000",
        },
    )
    responses.get(re.compile(rf"{API}/dm_events.*"), json=DMS)
    responses.get(re.compile(rf"{API}/users/{ME}/followers.*"), json=FOLLOWERS)
    # The stream is retried at X's reset time; the others sync.
    result = sync_account_run(account_id=account.pk)
    assert set(result.errors) == {"mentions"} and result.outcomes["mentions"].code == "rate_limited"
    assert result.outcomes["dms"].created == 2 and result.outcomes["followers"].created >= 1
    mentions = account.streams.get(name="mentions")
    assert mentions.retry_at == datetime.fromtimestamp(1795000000, tz=UTC)
    assert (mentions.status, mentions.error_code, mentions.failures) == (
        "retrying",
        "rate_limited",
        1,
    )
    assert mentions.error_params == {"network": "X"}
    account.refresh_from_db()
    assert account.next_sync_at <= max(mentions.retry_at, account.last_synced_at)


@responses.activate
def test_401_marks_needs_reconnect(account):
    responses.get(
        re.compile(rf"{API}/users/{ME}/mentions.*"),
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthError):
        sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.state == "needs_reconnect" and "Unauthorized" in account.last_error


@responses.activate
def test_reply_and_dm_posts_in_v2_format(account):
    responses.post(
        f"{API}/tweets",
        json={
            "data": {
                "id": "1880000000000000000",
                "text": "Hi",
                "edit_history_tweet_ids": ["1880000000000000000"],
            }
        },
    )
    responses.post(
        re.compile(rf"{API}/dm_conversations/with/1111/messages"),
        json={"data": {"dm_conversation_id": f"1111-{ME}", "dm_event_id": "1890000000000000000"}},
    )
    from crm.networks import adapter_for
    from crm.networks.base import Author

    adapter = adapter_for(account)
    sent = adapter.reply(in_reply_to="1860000000000000001", text="Hi", idempotency_key="k")
    assert sent.external_id == "1880000000000000000"
    assert b'"in_reply_to_tweet_id": "1860000000000000001"' in responses.calls[0].request.body
    dm = adapter.send_dm(
        recipient=Author(external_id="1111", handle="ana"),
        text="DM",
        thread_id=f"1111-{ME}",
        idempotency_key="d",
    )
    assert (dm.external_id, dm.thread_id) == ("1890000000000000000", f"1111-{ME}")


class MentionsTimeline:
    """X's mentions timeline served like the real endpoint: newest first, ``max_results``
    a page, ``pagination_token`` and ``since_id`` honoured; it serves only the newest
    ``window`` tweets (older ones expired, as X's 800-tweet limit does)."""

    def __init__(self, window: int = 1000):
        self.ids: list[int] = []
        self.window = window

    def post(self, count: int) -> list[str]:
        start = (self.ids[-1] if self.ids else 1880000000000000000) + 1
        new = list(range(start, start + count))
        self.ids += new
        return [str(i) for i in new]

    def __call__(self, request):
        params = request.params
        size = int(params.get("max_results", 10))
        since = int(params.get("since_id") or 0)
        served = [i for i in sorted(self.ids, reverse=True)[: self.window] if i > since]
        start = int(params.get("pagination_token") or 0)
        page = served[start : start + size]
        meta = {"result_count": len(page)}
        if start + size < len(served):
            meta["next_token"] = str(start + size)
        body = {
            "data": [tweet(str(i), "1111", f"@brand complaint {i}") for i in page],
            "includes": {"users": [user("1111", "ana", 320)]},
            "meta": meta,
        }
        return 200, {}, json.dumps(body)


def _serve_timeline(timeline: MentionsTimeline) -> None:
    responses.add_callback(
        responses.GET, re.compile(rf"{API}/users/{ME}/mentions.*"), callback=timeline
    )
    responses.get(re.compile(rf"{API}/dm_events.*"), json={"meta": {"result_count": 0}})
    responses.get(re.compile(rf"{API}/users/{ME}/followers.*"), json={"meta": {}})


@responses.activate
def test_mention_burst_larger_than_the_walk_budget_is_collected_whole(account, settings):
    settings.MOMENTO_SYNC_PAGE_SIZE = 5
    settings.MOMENTO_SYNC_WALK_PAGES = 2
    timeline = MentionsTimeline()
    _serve_timeline(timeline)
    first = timeline.post(3)
    sync_account_run(account_id=account.pk)
    stream = account.streams.get(name="mentions")
    assert stream.cursor == first[-1] and not stream.walking
    burst = timeline.post(23)
    created = []
    while True:
        result = sync_account_run(account_id=account.pk)
        created.append(result.outcomes["mentions"].created)
        stream.refresh_from_db()
        if not stream.walking:
            break
        # The cursor stays on the old stop while the walk is under way.
        assert stream.cursor == first[-1] and stream.walk_stop == first[-1]
        assert len(created) < 10
    assert created == [10, 10, 3]
    stored = list(
        TimelineEntry.objects.filter(account=account, network="x").values_list(
            "external_id", flat=True
        )
    )
    assert sorted(stored) == sorted(first + burst)  # 0 missing, 0 duplicated
    assert stream.cursor == burst[-1] and stream.gap_found_at is None


@responses.activate
def test_mentions_x_no_longer_serves_are_a_gap_on_the_stream(account, settings):
    settings.MOMENTO_SYNC_PAGE_SIZE = 5
    timeline = MentionsTimeline(window=8)
    _serve_timeline(timeline)
    first = timeline.post(2)
    sync_account_run(account_id=account.pk)
    assert account.streams.get(name="mentions").cursor == first[-1]
    timeline.post(20)  # X serves only the newest 8: the stop tweet expired
    sync_account_run(account_id=account.pk)
    stream = account.streams.get(name="mentions")
    assert not stream.walking and stream.gap_found_at is not None
    assert stream.gap_since is not None and stream.gap_until is not None
    assert stream.cursor == str(timeline.ids[-1])
    assert TimelineEntry.objects.filter(account=account, network="x").count() == 2 + 8
    with translation.override("en"):
        text = syncstream_gap_text(stream)
    assert text.startswith("Mentions: items may be missing between ")
