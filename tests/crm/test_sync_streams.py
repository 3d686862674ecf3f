"""Streams as rows, one page at a time, end to end on the real local peers (mastodon-mock
and the Bluesky dev network): a first poll with several pages waiting, a burst larger
than the walk budget collected over several syncs, a walk interrupted between pages and
resumed, a failing stream while the others sync, and a gap the network no longer
serves. Each counts what the peer holds against what Momento stored: 0 missing, 0
duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from contacts.models import TimelineEntry
from crm import sync
from crm.models import SocialAccount, SyncStream
from crm.selectors import syncstream_error_text, syncstream_gap_text
from crm.sync import streams_resume_due, sync_account_run
from tests.conftest import api_as
from tests.crm.helpers import bsky_account, bsky_mention
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.peers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice"]


@pytest.fixture
def small_pages(settings):
    """Pages of 5 and a walk budget of 2 pages per stream and run."""
    settings.MOMENTO_SYNC_PAGE_SIZE = 5
    settings.MOMENTO_SYNC_WALK_PAGES = 2
    return settings


def _mastodon_account(server) -> SocialAccount:
    return SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=server.base_url,
        credentials={"access_token": server.tokens["brand"]},
    )


def _mastodon_peer_mentions(server) -> list[str]:
    """External ids of every mention the brand holds on the mock (all pages)."""
    brand = server.client("brand")
    notes = brand.fetch_remaining(brand.notifications(limit=40))
    host = server.base_url.removeprefix("http://")
    return [f"{host}/s/{n['status']['id']}" for n in notes if n["type"] == "mention"]


def _stored(account, kind: str | None = None) -> list[str]:
    qs = TimelineEntry.objects.filter(account=account)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.values_list("external_id", flat=True))


def _assert_same(peer: list[str], stored: list[str]) -> None:
    """0 missing, 0 duplicated."""
    assert len(set(peer)) == len(peer)
    missing = set(peer) - set(stored)
    assert not missing, f"{len(missing)} missing"
    assert len(stored) == len(set(stored)), "duplicates stored"
    assert set(stored) == set(peer)


# -- Mastodon ---------------------------------------------------------------------------


def test_mastodon_first_poll_reads_every_waiting_page(db, mastodon_server):
    """The issue's scene: connected (its first sync found nothing), then 90 mentions
    (three of the mock's pages of 40) before the next poll: all of them land."""
    account = _mastodon_account(mastodon_server)
    assert sync_account_run(account_id=account.pk).created == 0
    alice = mastodon_server.client("alice")
    for n in range(90):
        alice.status_post(f"@brand where is my order {n}?")
    out = StringIO()
    call_command("sync_account", str(account.pk), stdout=out, stderr=StringIO())
    assert "90 new item(s)" in out.getvalue()
    peer = _mastodon_peer_mentions(mastodon_server)
    assert len(peer) == 90
    _assert_same(peer, _stored(account, "mention"))
    stream = account.streams.get(name="notifications")
    assert not stream.walking and stream.status == "ok" and stream.items_stored == 90
    assert stream.history_limited_at is None
    # The next poll walks forward from there with min_id and finds nothing new.
    assert sync_account_run(account_id=account.pk).created == 0


def test_mastodon_first_poll_is_bounded_and_says_so(db, mastodon_server, small_pages, client):
    small_pages.MOMENTO_BACKFILL_MAX_PAGES = 2
    account = _mastodon_account(mastodon_server)
    alice = mastodon_server.client("alice")
    for n in range(12):
        alice.status_post(f"@brand old question {n}")
    result = sync_account_run(account_id=account.pk, max_pages=10)
    # The newest two pages of five: the history the budget allows, newest first.
    assert (
        result.outcomes["notifications"].pages == 2
        and result.outcomes["notifications"].created == 10
    )
    stream = account.streams.get(name="notifications")
    assert stream.history_limited_at is not None and not stream.walking
    peer = _mastodon_peer_mentions(mastodon_server)
    stored = _stored(account, "mention")
    assert set(stored) <= set(peer) and len(stored) == len(set(stored)) == 10
    # Anything newer is read forward from the newest: nothing new is ever left out.
    alice.status_post("@brand a new one")
    assert sync_account_run(account_id=account.pk).created == 1

    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    html = client.get("/social-accounts/").content.decode()
    assert "the first sync read the newest 2 pages of history; older items were not fetched" in html


def test_mastodon_burst_larger_than_the_walk_budget_lands_over_several_syncs(
    db, mastodon_server, small_pages
):
    account = _mastodon_account(mastodon_server)
    alice = mastodon_server.client("alice")
    alice.status_post("@brand before the burst")
    sync_account_run(account_id=account.pk)
    assert account.streams.get(name="notifications").cursor  # min_id from here on
    for n in range(23):
        alice.status_post(f"@brand burst {n}")
    created = []
    for _ in range(4):
        result = sync_account_run(account_id=account.pk)
        created.append(result.outcomes["notifications"].created)
        if not result.more:
            break
    # Two pages of five a run: 10, 10, then the last 3.
    assert created == [10, 10, 3]
    _assert_same(_mastodon_peer_mentions(mastodon_server), _stored(account, "mention"))


def test_mastodon_failing_dm_stream_does_not_stop_notifications(db, mastodon_server, client):
    account = _mastodon_account(mastodon_server)
    mastodon_server.inject_fault(
        path_regex=r"^/api/v1/conversations", type="status", status=500, count=None
    )
    alice = mastodon_server.client("alice")
    for n in range(3):
        alice.status_post(f"@brand hello {n}")
    result = sync_account_run(account_id=account.pk)
    assert set(result.errors) == {"dms"}
    _assert_same(_mastodon_peer_mentions(mastodon_server), _stored(account, "mention"))
    dms = account.streams.get(name="dms")
    assert (dms.status, dms.error_code, dms.error_params) == (
        "retrying",
        "server_error",
        {"network": "Mastodon", "status": 500},
    )
    at = timezone.localtime(dms.retry_at).strftime("%H:%M")
    assert syncstream_error_text(dms) == f"Direct messages: Mastodon answered 500; retrying at {at}"
    account.refresh_from_db()
    assert account.state == "active" and account.next_sync_at <= dms.retry_at


def test_mastodon_sync_killed_between_pages_resumes_without_loss_or_duplicates(
    transactional_db, mastodon_server, tmp_path
):
    """``manage.py sync_account`` in a subprocess, SIGKILLed after some pages of a first
    poll committed; the next run (once the dead one's lease expires) finishes it."""
    account = _mastodon_account(mastodon_server)
    alice = mastodon_server.client("alice")
    for n in range(60):
        alice.status_post(f"@brand message {n}")
    mastodon_server.inject_fault(
        path="/api/v1/notifications", type="latency", delay_ms=700, count=None
    )
    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        MOMENTO_SYNC_PAGE_SIZE="5",
        MOMENTO_SYNC_LEASE_SECONDS="2",
        CONN_MAX_AGE="0",
        DEBUG="1",
    )
    log = (tmp_path / "sync.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sync_account", str(account.pk)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_stored(account)) < 10:
            assert proc.poll() is None, (tmp_path / "sync.log").read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
    stream = SyncStream.objects.get(account=account, name="notifications")
    stored = _stored(account)
    assert 10 <= len(stored) < 60, "the kill should land mid-walk"
    assert stream.walking and stream.walk_position and stream.items_stored == len(stored)
    # The sweeper's view: unfinished, and resumable once the dead run's lease expires.
    time.sleep(2.2)
    assert streams_resume_due() == [account.pk]
    mastodon_server.clear_faults()
    sync_account_run(account_id=account.pk)
    _assert_same(_mastodon_peer_mentions(mastodon_server), _stored(account, "mention"))
    stream.refresh_from_db()
    assert not stream.walking and stream.items_stored == 60
    assert streams_resume_due() == []


# -- Bluesky ----------------------------------------------------------------------------


def _bsky_brand(bsky) -> tuple[SocialAccount, object, object]:
    brand, alice = bsky.create_account("brand"), bsky.create_account("alice")
    return bsky_account(bsky, brand), brand, alice


def _bsky_peer_notifications(bsky, brand) -> list[str]:
    """URIs of every notification the brand holds on the local network (all pages)."""
    client = bsky.client(brand.handle, brand.password)
    uris, cursor = [], None
    while True:
        page = client.app.bsky.notification.list_notifications(
            params={"limit": 100, "cursor": cursor}
        )
        uris += [n.uri for n in page.notifications]
        cursor = page.cursor
        if not cursor or not page.notifications:
            return uris


def _bsky_mentions(bsky, brand, alice, count: int, label: str) -> list[str]:
    sender = bsky.client(alice.handle, alice.password)
    posted = [bsky_mention(sender, brand, f" {label} {n}").uri for n in range(count)]
    deadline = time.monotonic() + 30
    while not set(posted) <= set(_bsky_peer_notifications(bsky, brand)):
        assert time.monotonic() < deadline, "the AppView did not index the mentions"
        bsky.process()
        time.sleep(0.3)
    return posted


@pytest.fixture
def no_chat(monkeypatch):
    """The dev network has no chat service; for the tests about notifications, the DM
    stream is left out (its failure is the subject of its own test)."""
    from crm.networks.bluesky import Adapter

    monkeypatch.setattr(Adapter, "streams", ("notifications",))


def test_bluesky_first_poll_reads_every_waiting_page(db, bsky, small_pages, no_chat):
    account, brand, alice = _bsky_brand(bsky)
    posted = _bsky_mentions(bsky, brand, alice, 12, "first poll")
    result = sync_account_run(account_id=account.pk, max_pages=10)
    assert result.outcomes["notifications"].pages >= 3
    _assert_same(_bsky_peer_notifications(bsky, brand), _stored(account))
    assert set(posted) <= set(_stored(account))
    stream = account.streams.get(name="notifications")
    assert not stream.walking and stream.cursor.endswith("|" + posted[-1])


def test_bluesky_burst_larger_than_the_walk_budget_is_collected_whole(
    db, bsky, small_pages, no_chat
):
    """A newest-first walk of 2 pages of 5 a run: a burst of 23 is walked back over
    three syncs; the cursor stays put until the gap is closed; items arriving during the
    walk are read by the next one."""
    account, brand, alice = _bsky_brand(bsky)
    _bsky_mentions(bsky, brand, alice, 1, "before")
    sync_account_run(account_id=account.pk)
    before = account.streams.get(name="notifications").cursor
    _bsky_mentions(bsky, brand, alice, 23, "burst")
    first = sync_account_run(account_id=account.pk)
    assert first.more and first.outcomes["notifications"].created == 10
    stream = account.streams.get(name="notifications")
    assert stream.walking and stream.cursor == before and stream.walk_stop == before
    late = _bsky_mentions(bsky, brand, alice, 3, "during the walk")
    runs = 1
    while sync_account_run(account_id=account.pk).more:
        runs += 1
        assert runs < 10
    stream.refresh_from_db()
    assert not stream.walking and stream.cursor != before
    # The three posted during the walk are newer than its top: the next walk reads them.
    assert not set(late) <= set(_stored(account))
    sync_account_run(account_id=account.pk)
    _assert_same(_bsky_peer_notifications(bsky, brand), _stored(account))
    assert len(_stored(account)) == 27


def test_bluesky_walk_interrupted_between_pages_resumes(
    db, bsky, small_pages, no_chat, monkeypatch
):
    account, brand, alice = _bsky_brand(bsky)
    _bsky_mentions(bsky, brand, alice, 1, "before")
    sync_account_run(account_id=account.pk)
    _bsky_mentions(bsky, brand, alice, 14, "burst")
    small_pages.MOMENTO_SYNC_WALK_PAGES = 10
    real = sync.ingest_interactions
    calls = []

    class Killed(BaseException):
        pass

    def dies_on_the_third_page(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed  # as a SIGKILL would, between two committed pages
        return real(**kwargs)

    monkeypatch.setattr(sync, "ingest_interactions", dies_on_the_third_page)
    with pytest.raises(Killed):
        sync_account_run(account_id=account.pk)
    stream = account.streams.get(name="notifications")
    assert stream.walking and stream.walk_pages == 2 and len(_stored(account)) == 11
    monkeypatch.setattr(sync, "ingest_interactions", real)
    sync_account_run(account_id=account.pk)
    stream.refresh_from_db()
    assert not stream.walking
    _assert_same(_bsky_peer_notifications(bsky, brand), _stored(account))
    assert len(_stored(account)) == 15


def test_bluesky_chat_500_fails_dms_only_and_says_so(db, bsky, client, support):
    """The dev network's chat service answers 500: notifications still sync, and the
    DM stream's error is shown on the status page and in the API, in English and in
    Spanish."""
    account, brand, alice = _bsky_brand(bsky)
    posted = _bsky_mentions(bsky, brand, alice, 2, "while chat is down")
    result = sync_account_run(account_id=account.pk)
    assert set(result.errors) == {"dms"}
    assert set(posted) <= set(_stored(account))
    dms = account.streams.get(name="dms")
    assert (dms.status, dms.error_code, dms.error_params["status"]) == (
        "retrying",
        "chat_error",
        500,
    )
    assert dms.retry_at > timezone.now()
    at = timezone.localtime(dms.retry_at).strftime("%H:%M")
    expected = f"Direct messages: Bluesky's chat service answered 500; retrying at {at}"
    account.refresh_from_db()
    assert account.state == "active" and account.last_error == ""

    client.force_login(support)
    html = client.get("/social-accounts/").content.decode()
    assert expected.replace("'", "&#x27;") in html
    body = api_as(support).get(f"/api/v1/social-accounts/{account.pk}/").json()
    streams = {s["name"]: s for s in body["streams"]}
    assert streams["dms"]["error"] == expected and streams["dms"]["error_code"] == "chat_error"
    assert streams["notifications"]["status"] == "ok" and streams["notifications"]["error"] == ""

    spanish = (
        f"Mensajes directos: el servicio de chat de Bluesky respondió 500; se reintenta a las {at}"
    )
    with translation.override("es"):
        assert syncstream_error_text(dms) == spanish
    html = client.get("/social-accounts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert spanish in html
    body = (
        api_as(support)
        .get(f"/api/v1/social-accounts/{account.pk}/", HTTP_ACCEPT_LANGUAGE="es")
        .json()
    )
    assert {s["name"]: s for s in body["streams"]}["dms"]["error"] == spanish


def test_bluesky_gap_the_network_no_longer_serves_is_shown(db, bsky, no_chat, client, support):
    """Our cursor points before everything the network still serves (its notifications
    expired): the walk runs out of pages before reaching it, and the stream says items
    may be missing between the cursor's time and the oldest item served."""
    account, brand, alice = _bsky_brand(bsky)
    posted = _bsky_mentions(bsky, brand, alice, 3, "after the gap")
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    SyncStream.objects.create(
        account=account,
        name="notifications",
        status="ok",
        cursor=f"{long_ago.isoformat()}|at://did:plc:expired/app.bsky.feed.post/gone",
        cursor_at=long_ago,
    )
    sync_account_run(account_id=account.pk)
    stream = account.streams.get(name="notifications")
    assert set(posted) <= set(_stored(account))
    assert stream.gap_since == long_ago and stream.gap_until is not None
    assert stream.gap_until >= long_ago + timedelta(days=300)
    assert not stream.walking and stream.cursor.endswith("|" + posted[-1])
    with translation.override("en"):
        text = syncstream_gap_text(stream)
    assert text.startswith("Notifications: items may be missing between ")
    client.force_login(support)
    html = client.get("/social-accounts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "items may be missing between" in html
    body = (
        api_as(support)
        .get(f"/api/v1/social-accounts/{account.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        .json()
    )
    assert body["streams"][0]["gap"] == text
