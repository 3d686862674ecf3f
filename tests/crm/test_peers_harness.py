"""Tests that prove the local social-network peers work (see tests/peers.py)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.peers import PeersError, bsky_network, mastodon_mock

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _listeners(pid: int) -> list[str]:
    """Local addresses of the TCP sockets that process ``pid`` listens on (from ss)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if f"pid={pid}," in line]


def _poll(fetch, done, *, timeout: float, interval: float = 0.5, between=None):
    """Call ``fetch()`` until ``done(result)`` is true; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        if between is not None:
            between()
        time.sleep(interval)


def _jwt_payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


# --------------------------------------------------------------------------------------
# Bluesky
# --------------------------------------------------------------------------------------


def test_bsky_servers_listen_on_loopback_only(bsky):
    addresses = _listeners(bsky.pid)
    # PLC, PDS, AppView, its data plane, bsync and ozone at least.
    assert len(addresses) >= 6, addresses
    for address in addresses:
        assert address.startswith("127.0.0.1:"), f"listening on {address}: {addresses}"
    ports = {int(a.rsplit(":", 1)[1]) for a in addresses}
    for url in (bsky.pds_url, bsky.appview_url, bsky.plc_url):
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) in ports
    assert requests.get(f"{bsky.pds_url}/xrpc/_health", timeout=10).status_code == 200
    assert requests.get(f"{bsky.appview_url}/xrpc/_health", timeout=10).status_code == 200
    assert requests.get(f"{bsky.plc_url}/_health", timeout=10).status_code == 200


def test_bsky_notifications_for_every_interaction(bsky):
    from atproto import client_utils, models

    alice = bsky.create_account("alice")
    bob = bsky.create_account("bob")
    handle, did, password, app_password = bob  # BskyAccount unpacks as a 4-tuple
    assert handle.endswith(".test") and did.startswith("did:plc:") and app_password != password

    a = bsky.client(alice.handle, alice.password)
    b_main = bsky.client(bob.handle, bob.password)
    word = f"Momento{secrets.token_hex(4)}"
    parent = b_main.send_post(f"Bob writes about {word} today")
    parent_ref = models.create_strong_ref(parent)
    bsky.process()
    time.sleep(2)  # the AppView may drop a reply notification whose parent is brand new

    mention = a.send_post(
        client_utils.TextBuilder()
        .text("Hello ")
        .mention(f"@{bob.handle}", bob.did)
        .text(", welcome!")
    )
    reply = a.send_post(
        "Replying to Bob",
        reply_to=models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=parent_ref),
    )
    quote = a.send_post("Quoting Bob", embed=models.AppBskyEmbedRecord.Main(record=parent_ref))
    like = a.like(parent.uri, parent.cid)
    repost = a.repost(parent.uri, parent.cid)
    follow = a.follow(bob.did)
    bsky.process()

    # Bob reads his notifications logged in with his APP PASSWORD.
    b = bsky.client(bob.handle, bob.app_password)
    assert _jwt_payload(b._session.access_jwt)["scope"] == "com.atproto.appPass"

    expected = {"mention", "reply", "quote", "like", "repost", "follow"}

    def fetch():
        return b.app.bsky.notification.list_notifications(params={"limit": 50}).notifications

    notifications = _poll(
        fetch, lambda ns: expected <= {n.reason for n in ns}, timeout=30, between=bsky.process
    )
    by_reason = {n.reason: n for n in notifications}
    assert expected <= set(by_reason), f"got reasons {sorted(by_reason)}"
    assert {n.author.did for n in notifications} == {alice.did}

    assert by_reason["mention"].uri == mention.uri
    assert bob.did in [f.features[0].did for f in by_reason["mention"].record.facets]
    assert by_reason["reply"].uri == reply.uri
    assert by_reason["reply"].record.reply.parent.uri == parent.uri
    assert by_reason["reply"].reason_subject == parent.uri
    assert by_reason["quote"].uri == quote.uri
    assert by_reason["quote"].record.embed.record.uri == parent.uri
    assert by_reason["like"].uri == like.uri
    assert by_reason["like"].reason_subject == parent.uri
    assert by_reason["repost"].uri == repost.uri
    assert by_reason["repost"].reason_subject == parent.uri
    assert by_reason["follow"].uri == follow.uri
    assert by_reason["follow"].record.subject == bob.did
    # With no seen time stored, the AppView marks only the newest notification unread
    # (a deliberate hack in its listNotifications); updateSeen marks them all read.
    assert [n.is_read for n in notifications] == [False] + [True] * (len(notifications) - 1)
    b.app.bsky.notification.update_seen({"seen_at": b.get_current_time_iso()})
    assert b.app.bsky.notification.get_unread_count().count == 0
    assert all(n.is_read for n in fetch())

    # searchPosts finds Bob's post by a word in it (a case-sensitive substring search).
    def search(q):
        return lambda: a.app.bsky.feed.search_posts(params={"q": q}).posts

    found = _poll(
        search(word),
        lambda ps: any(p.uri == parent.uri for p in ps),
        timeout=20,
        between=bsky.process,
    )
    assert [p.uri for p in found] == [parent.uri]
    assert found[0].author.did == bob.did
    assert a.app.bsky.feed.search_posts(params={"q": f"Nothing{secrets.token_hex(6)}"}).posts == []


def test_bsky_rate_limits_flag(tmp_path):
    """With rate_limits=True the PDS sends RateLimit-* headers and 429s; the SDK raises."""
    from atproto import Client, models
    from atproto.exceptions import RateLimitExceededError

    with bsky_network(tmp_path, rate_limits=True) as network:
        pid, db_name = network.pid, network.db_name
        assert network.info["rate_limits"] is True
        carol = network.create_account("carol")

        # createSession allows 30 logins per identifier and IP in 5 minutes.
        resp = requests.post(
            f"{network.pds_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": carol.handle, "password": carol.password},
            timeout=10,
        )
        assert resp.status_code == 200
        assert resp.headers["RateLimit-Limit"] == "30"
        assert resp.headers["RateLimit-Policy"] == "30;w=300"
        remaining = int(resp.headers["RateLimit-Remaining"])
        assert remaining == 29

        client = Client(base_url=f"{network.pds_url}/xrpc")
        data = models.ComAtprotoServerCreateSession.Data(
            identifier=carol.handle, password=carol.password
        )
        # Use up the budget (in parallel: each login hashes the password for ~0.3 s).
        with ThreadPoolExecutor(max_workers=4) as pool:
            sessions = list(
                pool.map(lambda _: client.com.atproto.server.create_session(data), range(remaining))
            )
        assert {s.did for s in sessions} == {carol.did}
        with pytest.raises(RateLimitExceededError) as excinfo:
            client.com.atproto.server.create_session(data)
        err = excinfo.value
        assert err.response.status_code == 429
        assert err.limit == 30 and err.remaining == 0
        now = datetime.now(UTC)
        assert now < err.reset_at <= now + timedelta(seconds=301)

    # The network is gone and its database dropped.
    assert subprocess.run(["ps", "-p", str(pid)], capture_output=True).returncode == 1
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        row = conn.execute(
            "select count(*) from pg_database where datname = %s", (db_name,)
        ).fetchone()
    assert row[0] == 0


def test_bsky_startup_failure_cleans_up(tmp_path):
    """A network that is not ready in time raises a clear error and leaves nothing behind."""
    import psycopg

    def our_databases():
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
            rows = conn.execute(
                "select datname from pg_database where datname like 'momento_bsky_%'"
            ).fetchall()
        return {r[0] for r in rows}

    def our_nodes():
        out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
        return {line.split()[0] for line in out.splitlines() if "bsky_network.mjs" in line}

    dbs_before, nodes_before = our_databases(), our_nodes()
    with pytest.raises(PeersError, match=r"timed out before it was ready .*stderr"):
        with bsky_network(tmp_path, startup_timeout=0.5):
            pytest.fail("the network cannot be ready in half a second")
    assert our_databases() <= dbs_before  # (stale ones of killed runs may be swept)
    assert our_nodes() <= nodes_before


# --------------------------------------------------------------------------------------
# Mastodon (mastodon_mock)
# --------------------------------------------------------------------------------------


def test_mastodon_listens_on_loopback_and_stops(tmp_path):
    with mastodon_mock(["dora"], tmp_path=tmp_path) as server:
        pid = server.pid
        assert server.base_url.startswith("http://127.0.0.1:")
        addresses = _listeners(pid)
        assert addresses == [server.base_url.removeprefix("http://")]
        me = server.client("dora").account_verify_credentials()
        assert me["username"] == "dora"
    assert subprocess.run(["ps", "-p", str(pid)], capture_output=True).returncode == 1


def test_mastodon_mention_notification(mastodon_server):
    alice = mastodon_server.client("alice")
    bob = mastodon_server.client("bob")
    status = alice.status_post("Hello @bob, about the CRM demo")
    assert [m["acct"] for m in status["mentions"]] == ["bob"]

    notifications = bob.notifications(types=["mention"])
    assert len(notifications) == 1
    note = notifications[0]
    assert note["type"] == "mention"
    assert note["account"]["acct"] == "alice"
    assert note["status"]["id"] == status["id"]
    assert alice.notifications() == []


def test_mastodon_direct_message_in_conversations(mastodon_server):
    alice = mastodon_server.client("alice")
    bob = mastodon_server.client("bob")
    carol = mastodon_server.client("carol")
    dm = alice.status_post("@bob this stays between us", visibility="direct")
    assert dm["visibility"] == "direct"

    conversations = bob.conversations()
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation["last_status"]["id"] == dm["id"]
    assert [a["acct"] for a in conversation["accounts"]] == ["alice"]
    assert conversation["unread"] is True
    assert carol.conversations() == []
    # Not in public timelines.
    assert dm["id"] not in [s["id"] for s in carol.timeline_public()]


def test_mastodon_idempotency_key(mastodon_server):
    alice = mastodon_server.client("alice")
    key = f"momento-{secrets.token_hex(8)}"
    first = alice.status_post("Posted once, sent twice", idempotency_key=key)
    second = alice.status_post("Posted once, sent twice", idempotency_key=key)
    assert first["id"] == second["id"]
    me = alice.me()
    statuses = alice.account_statuses(me["id"])
    assert [s["id"] for s in statuses] == [first["id"]]
    third = alice.status_post("Posted once, sent twice", idempotency_key=f"{key}-other")
    assert third["id"] != first["id"]


def test_mastodon_injected_429(mastodon_server):
    from mastodon import MastodonRatelimitError

    alice = mastodon_server.client("alice")  # ratelimit_method="throw"
    rule = mastodon_server.inject_fault(path="/api/v1/timelines/home", type="ratelimit", count=1)
    assert rule["effect"]["status"] == 429
    before = time.time()
    with pytest.raises(MastodonRatelimitError):
        alice.timeline_home()
    # Mastodon.py recorded the rate-limit headers.
    assert alice.ratelimit_limit == 300
    assert alice.ratelimit_remaining == 0
    assert before + 290 < alice.ratelimit_reset < before + 310
    # The rule fired once; the next call goes through.
    assert alice.timeline_home() == []

    # What the mock sends: X-RateLimit-Reset as epoch seconds (real Mastodon sends
    # ISO 8601, e.g. 2026-11-23T14:00:00.000Z), plus Retry-After in seconds.
    mastodon_server.inject_fault(path="/api/v1/timelines/home", type="ratelimit", count=1)
    resp = requests.get(
        f"{mastodon_server.base_url}/api/v1/timelines/home",
        headers={"Authorization": f"Bearer {mastodon_server.tokens['alice']}"},
        timeout=10,
    )
    assert resp.status_code == 429
    assert resp.json() == {"error": "Too many requests"}
    assert re.fullmatch(r"\d{10}", resp.headers["X-RateLimit-Reset"])
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert resp.headers["Retry-After"] == "300"


def test_mastodon_iso_reset_header_and_wait_mode(mastodon_server):
    """Real servers send an ISO 8601 reset time; Mastodon.py's "wait" mode sleeps until it."""
    reset = datetime.now(UTC) + timedelta(seconds=2)
    iso = reset.strftime("%Y-%m-%dT%H:%M:%S.") + f"{reset.microsecond // 1000:03d}Z"
    mastodon_server.inject_fault(
        path="/api/v1/timelines/home",
        type="ratelimit",
        headers={"X-RateLimit-Reset": iso, "Retry-After": "2"},
        count=1,
    )
    alice = mastodon_server.client("alice", ratelimit_method="wait")
    started = time.monotonic()
    assert alice.timeline_home() == []  # 429, sleep until the reset, retry, 200
    waited = time.monotonic() - started
    assert 0.5 < waited < 10
