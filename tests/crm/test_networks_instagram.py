"""Instagram professional accounts on the Graph fake (``tests.crm.meta_fake``), which
serves Instagram's wire format: media, comments newest first with nested replies,
``/tags`` mentions and Direct conversations through the linked page."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import responses
from django.urls import reverse

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount
from crm.networks import meta
from crm.networks.base import CursorWalk, InvalidRequest
from crm.networks.instagram import Adapter
from crm.services import socialaccount_connect
from crm.sync import sync_account_run
from tests.crm.conftest import (
    crash_once_in_page_commit,
    held_against_stored,
    stream_row,
    time_passes,
)
from tests.crm.meta_fake import FakePage, graph_error

CREDENTIALS = {"access_token": "EAAB-page-token", "app_secret": "s3cret", "verify_token": "vt-ig"}


@pytest.fixture
def ig():
    fake = FakePage(instagram=True, username="momento.shop")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


@pytest.fixture
def account(db, ig, manager):
    return socialaccount_connect(
        network="instagram",
        kind="brand",
        handle="momento.shop",
        credentials=dict(CREDENTIALS),
        actor=manager,
    )


def sync_until_done(account: SocialAccount, *, page_limit: int = 25) -> None:
    for _ in range(40):
        if not sync_account_run(account_id=account.pk, max_pages=3, page_limit=page_limit).more:
            return
    raise AssertionError("sync never finished")


def stored(account) -> Counter:
    return Counter(
        TimelineEntry.objects.filter(account=account).values_list("external_id", flat=True)
    )


def test_connect_finds_the_professional_account_behind_the_page(account, ig):
    assert (account.external_id, account.handle) == (ig.ig_id, "momento.shop")


def test_a_page_without_an_instagram_account_is_a_clear_error(db):
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://graph.facebook.com/v24.0/me",
            json={"id": "104000000000001"},
        )
        adapter = Adapter.from_credentials(base_url="", handle="x", credentials=CREDENTIALS)
        with pytest.raises(InvalidRequest, match="no Instagram professional account"):
            adapter.verify()


def test_first_poll_and_a_burst_store_comments_replies_and_dms_once(account, ig):
    """Instagram serves comments newest first with no ``since``: the walk goes back to
    the cursor, and more than a page waiting is read whole, in order."""
    reel, photo = ig.post("New reel"), ig.post("Summer sale")
    top = [ig.comment(reel, f"55{n % 7:02d}", f"user_{n % 7}", f"love it {n}") for n in range(40)]
    for n in range(10):
        ig.comment(reel, "5599", "grumpy_99", f"reply {n}", parent=top[n])
    for n in range(30):
        ig.comment(photo, f"56{n % 5:02d}", f"buyer_{n % 5}", f"where is my order {n}")
    for n in range(12):
        ig.dm(f"66{n % 3:02d}", f"dm_user_{n % 3}", f"hola {n}")
    sync_until_done(account, page_limit=20)

    # A burst after the first poll.
    for n in range(45):
        ig.comment(photo, f"57{n % 9:02d}", f"angry_{n % 9}", f"still waiting {n}")
    sync_until_done(account, page_limit=20)

    held = {c.id for c in ig.comments} | {m["id"] for ms in ig.messages.values() for m in ms}
    got = stored(account)
    assert set(got) == held and len(held) == 137
    assert max(got.values()) == 1
    reply = TimelineEntry.objects.get(text="reply 3")
    assert reply.in_reply_to == top[3]
    grumpy = SocialIdentity.objects.get(network="instagram", handle="grumpy_99")
    assert grumpy.external_id == f"{ig.ig_id}:5599"
    assert grumpy.profile_url == "https://www.instagram.com/grumpy_99/"
    dm = TimelineEntry.objects.filter(account=account, kind="dm").first()
    assert dm.thread_id.startswith(f"{ig.ig_id}:")


def test_public_reply_private_reply_and_direct_in_thread(client, account, ig, manager, answer):
    photo = ig.post("Summer sale")
    comment_id = ig.comment(photo, "5501", "lucia_m", "my parcel is lost")
    sync_account_run(account_id=account.pk)
    entry = TimelineEntry.objects.get(external_id=comment_id)

    answer(client, manager, entry, "Sorry Lucía, checking now", private=False)
    assert ig.sent[-1]["path"] == f"{comment_id}/replies"
    answer(client, manager, entry, "Send us the tracking number here", private=True)
    assert ig.sent[-1]["path"] == "me/messages"
    assert json.loads(ig.sent[-1]["recipient"]) == {"comment_id": comment_id}
    dm = TimelineEntry.objects.get(kind="dm", direction="out")
    assert dm.thread_id == f"{ig.ig_id}:5501" and dm.contact_id == entry.contact_id


def test_a_signed_instagram_comment_webhook_lands_once(client, account, ig):
    from crm.networks.meta import signature

    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": ig.ig_id,
                    "time": 1795000000,
                    "changes": [
                        {
                            "field": "comments",
                            "value": {
                                "id": "17865799348089039",
                                "text": "no llega mi pedido 😡",
                                "from": {"id": "5577", "username": "pepa"},
                                "media": {"id": "17900000000000001"},
                                "timestamp": 1795000000,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    url = reverse("crm:meta-webhook", args=[account.pk])
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature("s3cret", body)}
    first = client.post(url, body, content_type="application/json", **headers)
    assert first.json() == {"stored": 1, "failed": 0}
    assert client.post(url, body, content_type="application/json", **headers).json()["stored"] == 0
    entry = TimelineEntry.objects.get(external_id="17865799348089039")
    assert entry.identity.handle == "pepa" and entry.in_reply_to == "17900000000000001"
    # A Facebook event to the Instagram endpoint is refused.
    wrong = json.dumps({"object": "page", "entry": []}).encode()
    response = client.post(
        url,
        wrong,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature("s3cret", wrong),
    )
    assert response.status_code == 400


def comment_pages_read(ig) -> Counter:
    """Each comments page Instagram served, by (medium, ``after``), and how often."""
    from urllib.parse import parse_qs, urlsplit

    reads: Counter = Counter()
    for url in ig.requests_seen:
        parts = urlsplit(url)
        if parts.path.endswith("/comments"):
            after = parse_qs(parts.query).get("after", [""])[0]
            reads[(parts.path.split("/")[-2], after)] += 1
    return reads


def test_a_long_comments_walk_survives_a_429_a_500_and_a_crash_and_resumes_in_place(
    account, ig, monkeypatch
):
    """More than a page waits on the first poll (three media, ten pages of comments and
    replies); each run reads two pages and stores the walk's state with them; a 429, a
    500 and a crash inside a page's commit each stop it mid-walk, and the next run goes
    on from the last page stored, reading no page twice but the one that crashed; new
    comments arrive meanwhile on a medium already walked and on one not yet walked."""

    photo, reel, story = ig.post("Summer sale"), ig.post("New reel"), ig.post("Behind the scenes")
    first = [ig.comment(reel, f"55{n % 7:02d}", f"user_{n % 7}", f"love it {n}") for n in range(38)]
    for n in range(7):
        ig.comment(reel, "5599", "grumpy_99", f"reply {n}", parent=first[n])
    for n in range(27):
        ig.comment(photo, f"56{n % 5:02d}", f"buyer_{n % 5}", f"where is my order {n}")
    for n in range(12):
        ig.comment(story, f"57{n % 3:02d}", f"fan_{n % 3}", f"so cool {n}")

    def run(pages: int = 3) -> None:
        sync_account_run(account_id=account.pk, max_pages=pages, page_limit=10)

    run()  # the story's two pages (newest medium first), the reel's first
    walk = CursorWalk.parse(stream_row(account, "comments").cursor)
    assert set(walk.seen) == {story} and [t[0] for t in walk.todo] == [reel, photo]
    assert walk.token and walk.pages == 1
    assert len(stored(account)) == 12 + 10

    ig.faults.append((400, graph_error(4, "Application request limit reached"), {}))
    run()
    assert stream_row(account, "comments").error_code == "rate_limited"
    assert CursorWalk.parse(stream_row(account, "comments").cursor) == walk
    time_passes(account)
    run(1)  # the reel's second page
    walk = CursorWalk.parse(stream_row(account, "comments").cursor)
    assert walk.todo[0][0] == reel and walk.pages == 2

    # Meanwhile, a new comment and a reply under an old comment on the medium walked
    # already and on the one being walked (above the walk's position, and on its last
    # page: the reply must not carry the reel's since past the comment), a new comment
    # on the one not walked yet.
    ig.comment(story, "5800", "late_0", "late on a walked medium")
    old = next(c.id for c in ig.comments if c.post_id == story and not c.parent_id)
    ig.comment(story, "5801", "late_1", "late reply under an old comment", parent=old)
    ig.comment(reel, "5802", "late_2", "late on the medium being walked")
    ig.comment(reel, "5804", "late_4", "late reply on the walk's last page", parent=first[0])
    ig.comment(photo, "5803", "late_3", "late on a medium not walked yet")

    ig.faults.append(
        (500, graph_error(2, "Service temporarily unavailable", kind="OAuthException"), {})
    )
    before = stream_row(account, "comments").cursor
    run()
    assert stream_row(account, "comments").error_code == "server_error"
    assert stream_row(account, "comments").cursor == before
    time_passes(account)

    crashes = crash_once_in_page_commit(monkeypatch, after=1)
    with pytest.raises(RuntimeError):
        run()
    assert "crashed" in crashes and stream_row(account, "comments").cursor == before
    monkeypatch.undo()
    sync_until_done(account, page_limit=10)  # the walk ends
    # The first walk read each page once, but for the 429, the 500 and the crash.
    assert sum(n - 1 for n in comment_pages_read(ig).values()) == 3
    sync_until_done(account, page_limit=10)  # the next walk reads what came late

    held = {c.id: c.created for c in ig.comments}
    assert held_against_stored(account, held) == {
        "missing": 0,
        "duplicated": 0,
        "unknown": 0,
        "in_order": True,
    }
    assert stream_row(account, "comments").status == "ok"


def test_tagged_media_are_walked_back_to_the_cursor_across_a_429(account, ig):
    """More than a page of media tagging the account waits; the walk stores its state
    with each page, a 429 mid-walk leaves it where it was, and a second burst is read
    back to the cursor only."""
    for n in range(27):
        ig.tag(f"77{n % 4:02d}", f"tagger_{n % 4}", f"wearing @momento.shop {n}")

    def run() -> None:
        sync_account_run(account_id=account.pk, max_pages=1, page_limit=10)

    run()
    walk = CursorWalk.parse(stream_row(account, "mentions").cursor)
    assert walk.todo == (("", ""),) and walk.token and walk.pages == 1
    ig.faults.extend([(400, graph_error(4, "Application request limit reached"), {})] * 3)
    run()  # the comments, mentions and dms streams each meet one
    assert stream_row(account, "mentions").error_code == "rate_limited"
    assert CursorWalk.parse(stream_row(account, "mentions").cursor) == walk
    time_passes(account)
    sync_until_done(account, page_limit=10)
    assert stream_row(account, "mentions").cursor.isdigit()  # the walk ended
    for n in range(12):
        ig.tag(f"78{n % 3:02d}", f"late_{n % 3}", f"late tag {n}")
    sync_until_done(account, page_limit=10)

    held = {m["id"]: meta.parse_meta_time(m["timestamp"]) for m in ig.tags}
    assert held_against_stored(account, held) == {
        "missing": 0,
        "duplicated": 0,
        "unknown": 0,
        "in_order": True,
    }
    tags_read = [u for u in ig.requests_seen if "/tags" in u]
    assert len(tags_read) == 3 + 1 + 2  # three pages and the 429, then two back to the cursor
    mention = TimelineEntry.objects.get(text="late tag 4")
    assert mention.kind == "mention" and mention.identity.handle == "late_1"
