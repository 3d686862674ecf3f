"""LinkedIn organization pages on ``tests.crm.linkedin_fake`` (the versioned Rest.li
API and LinkedIn's OAuth endpoint in their wire format, through ``responses``)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.core.exceptions import ValidationError

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount
from crm.networks.base import CursorWalk
from crm.selectors import syncstream_error_text
from crm.services import socialaccount_connect
from crm.sync import sync_account_run
from tests.crm.conftest import (
    crash_once_in_page_commit,
    held_against_stored,
    stream_row,
    time_passes,
)
from tests.crm.linkedin_fake import FakeOrg, li_error


@pytest.fixture
def org():
    fake = FakeOrg()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


def credentials(org) -> dict:
    return {
        "client_id": "86abc",
        "client_secret": "WPL_AP1.secret",
        "refresh_token": org.refresh_token,
    }


@pytest.fixture
def account(db, org, manager):
    return socialaccount_connect(
        network="linkedin",
        kind="brand",
        handle="momento-shop",
        credentials=credentials(org),
        actor=manager,
    )


def sync_until_done(account, *, page_limit: int = 20) -> None:
    for _ in range(60):
        if not sync_account_run(account_id=account.pk, max_pages=4, page_limit=page_limit).more:
            return
    raise AssertionError("sync never finished")


def stored(account) -> Counter:
    return Counter(
        TimelineEntry.objects.filter(account=account).values_list("external_id", flat=True)
    )


def test_connect_renews_the_token_and_finds_the_administered_page(account, org):
    assert (account.external_id, account.handle) == (org.org_id, "momento-shop")
    assert org.refreshes == 1


def test_a_revoked_refresh_token_is_refused_at_connect(db, org, manager):
    with pytest.raises(ValidationError, match="rejected these credentials"):
        socialaccount_connect(
            network="linkedin",
            kind="brand",
            handle="momento-shop",
            credentials={**credentials(org), "refresh_token": "AQX-revoked"},
            actor=manager,
        )
    assert not SocialAccount.objects.exists()


def test_comments_reactions_and_mentions_land_once_across_a_burst(account, org):
    launch, outage = org.post(), org.post()
    for n in range(35):
        org.comment(launch, f"p{n % 6}", f"congrats {n}")
    first = org.comment(outage, "angry1", "our VPN is down since 9")
    for n in range(8):
        org.comment(outage, f"q{n}", f"same here {n}", parent=first)
    for n in range(25):
        org.react(launch, f"r{n}")
    for n in range(4):
        org.mention(f"m{n}", f"Great talk by @Momento Shop {n}")
    sync_until_done(account, page_limit=20)
    for n in range(120):
        org.comment(outage, f"b{n % 30}", f"still down {n}")
    sync_until_done(account, page_limit=50)

    got = stored(account)
    assert set(got) == org.all_ids() and len(got) == 35 + 1 + 8 + 25 + 4 + 120
    assert max(got.values()) == 1
    reply = TimelineEntry.objects.get(text="same here 3")
    assert reply.in_reply_to == first and reply.thread_id == outage
    person = SocialIdentity.objects.get(network="linkedin", external_id="urn:li:person:angry1")
    assert person.handle == "angry1"
    assert TimelineEntry.objects.filter(account=account, kind="like").count() == 25


def test_an_expired_access_token_is_renewed_once_and_kept(account, org):
    org.access_token = "AQV-rotated-elsewhere"  # LinkedIn expired ours
    org.comment(org.post(), "p1", "hello")
    sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.credentials["access_token"] == org.access_token
    assert len(stored(account)) == 1


def test_a_429_waits_and_a_500_backs_off_and_nothing_is_lost(account, org):
    org.comment(org.post(), "p1", "hello")
    org.faults.append(
        (429, li_error(429, "TOO_MANY_REQUESTS", "Resource level throttle"), {"Retry-After": "120"})
    )
    before = datetime.now(UTC)
    sync_account_run(account_id=account.pk)
    comments = stream_row(account, "comments")
    assert comments.error_code == "rate_limited"
    assert before + timedelta(seconds=110) < comments.retry_at < before + timedelta(seconds=130)
    time_passes(account)
    org.faults.append((504, li_error(504, "GATEWAY_TIMEOUT", "upstream"), {}))
    sync_account_run(account_id=account.pk)
    assert "LinkedIn answered 504" in syncstream_error_text(stream_row(account, "comments"))
    time_passes(account)
    sync_until_done(account)
    assert set(stored(account)) == org.all_ids()


def test_an_agent_answers_a_comment_publicly_on_its_thread(client, account, org, manager, answer):
    post = org.post()
    comment = org.comment(post, "p1", "Do you ship to Peru?")
    sync_account_run(account_id=account.pk)
    entry = TimelineEntry.objects.get(external_id=comment)
    answer(client, manager, entry, "Yes, since May!", private=False)
    made = org.created[-1]
    assert made["object"] == post and made["parentComment"] == comment
    assert made["actor"] == org.urn and made["message"] == {"text": "Yes, since May!"}
    out = TimelineEntry.objects.get(direction="out")
    assert (
        out.external_id.startswith(f"urn:li:comment:({post},")
        and out.contact_id == entry.contact_id
    )


def pages_read(org) -> Counter:
    """Each list page LinkedIn served, by (path, start), and how often."""
    return Counter(org.reads)


def test_long_walks_survive_a_429_a_500_and_a_crash_and_resume_in_place(account, org, monkeypatch):
    """More than a page waits on the first poll in every stream (comments on two posts,
    reactions, mentions); each run reads two pages a stream and stores the walk's state
    with them; a 429, a 500 and a crash inside a page's commit stop it mid-walk, and the
    next run goes on from the last page stored, reading no page twice but those; new
    comments arrive meanwhile on the post walked already and on the one being walked."""
    launch, outage = org.post(), org.post()
    for n in range(34):
        org.comment(launch, f"p{n % 6}", f"congrats {n}")
    first = org.comment(outage, "angry1", "our VPN is down since 9")
    for n in range(18):
        org.comment(outage, f"q{n}", f"same here {n}", parent=first)
    for n in range(23):
        org.react(launch, f"r{n}")
    for n in range(24):
        org.mention(f"m{n}", f"Great talk by @Momento Shop {n}")

    def run() -> None:
        sync_account_run(account_id=account.pk, max_pages=2, page_limit=10)

    run()  # the outage's two pages (the newest post first)
    walk = CursorWalk.parse(stream_row(account, "comments").cursor)
    assert [t[0] for t in walk.todo] == [launch] and set(walk.seen) == {outage}
    mentions = CursorWalk.parse(stream_row(account, "mentions").cursor)
    assert mentions.token == "20" and mentions.pages == 2  # a one-list walk, mid-way
    # Comments: the outage's 19; reactions: none on the outage, a page on the launch.
    assert len(stored(account)) == 19 + 10 + 20

    org.faults.append(
        (429, li_error(429, "TOO_MANY_REQUESTS", "Resource level throttle"), {"Retry-After": "60"})
    )
    run()
    assert stream_row(account, "comments").error_code == "rate_limited"
    assert CursorWalk.parse(stream_row(account, "comments").cursor) == walk
    time_passes(account)
    run()  # the launch's first pages

    org.comment(outage, "late0", "late on the post walked already")
    org.comment(launch, "late1", "late on the post being walked")
    org.react(launch, "late2")

    org.faults.append((500, li_error(500, "INTERNAL_SERVER_ERROR", "oops"), {}))
    before = stream_row(account, "comments").cursor
    run()
    assert stream_row(account, "comments").cursor == before
    assert "LinkedIn answered 500" in syncstream_error_text(stream_row(account, "comments"))
    time_passes(account)

    crashes = crash_once_in_page_commit(monkeypatch, after=1)
    with pytest.raises(RuntimeError):
        run()
    assert "crashed" in crashes and stream_row(account, "comments").cursor == before
    monkeypatch.undo()
    sync_until_done(account, page_limit=10)  # the walks end
    # The comments walk read each page once, but for the 429, the 500 and the crash
    # (the other streams' walks ended sooner, and each run since started a new one).
    again = {key: n for key, n in pages_read(org).items() if n > 1 and key[0].endswith("/comments")}
    assert sum(n - 1 for n in again.values()) == 3, again
    sync_until_done(account, page_limit=10)  # the next walks read what came late

    held = {eid: when for eid, when in org.times().items()}
    assert held_against_stored(account, held) == {
        "missing": 0,
        "duplicated": 0,
        "unknown": 0,
        "in_order": True,
    }
    assert {stream_row(account, s).status for s in ("comments", "reactions", "mentions")} == {"ok"}
