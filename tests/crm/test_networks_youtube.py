"""YouTube against ``tests.crm.youtube_fake``: the Data API v3 and Google's token
endpoint in their own wire format over real HTTP on 127.0.0.1, so google-api-python-
client, google-auth and httplib2 run as they do in production."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount
from crm.selectors import syncstream_error_text
from crm.services import socialaccount_connect
from crm.sync import sync_account_run
from tests.crm.conftest import stream_row, time_passes
from tests.crm.youtube_fake import FakeChannel, yt_error


@pytest.fixture
def channel():
    fake = FakeChannel().start()
    yield fake
    fake.stop()


def credentials(channel) -> dict:
    return {
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret",
        "refresh_token": channel.refresh_token,
    }


@pytest.fixture
def account(db, channel, manager):
    return socialaccount_connect(
        network="youtube",
        kind="brand",
        handle="momentotv",
        base_url=channel.base_url,
        credentials=credentials(channel),
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


def test_connect_refreshes_the_token_and_keys_the_channel(account, channel):
    assert (account.external_id, account.handle) == (channel.channel_id, "@momentotv")
    assert channel.refreshes == 1


def test_a_revoked_refresh_token_is_refused_at_connect(db, channel, manager):
    with pytest.raises(ValidationError, match="rejected these credentials"):
        socialaccount_connect(
            network="youtube",
            kind="brand",
            handle="momentotv",
            base_url=channel.base_url,
            credentials={**credentials(channel), "refresh_token": "1//revoked"},
            actor=manager,
        )
    assert not SocialAccount.objects.exists()


def test_a_burst_of_comments_replies_and_subscribers_lands_once(account, channel):
    """More than a walk's page is waiting at the first poll and again after it; threads
    with more replies than the thread list carries are read through comments.list."""
    for n in range(45):
        channel.comment(f"UCfan{n % 11:03d}", f"@fan{n % 11}", f"great video {n}")
    hot = channel.comment("UCangry0001", "@angry", "the update broke my router")
    for n in range(12):
        channel.reply(hot, f"UCpile{n % 4:03d}", f"@pile{n % 4}", f"same here {n}")
    for n in range(7):
        channel.subscribe(f"UCsub{n:03d}", f"Subscriber {n}")
    sync_until_done(account, page_limit=20)

    for n in range(50):
        channel.comment(f"UCnew{n % 13:03d}", f"@new{n % 13}", f"still broken {n}")
    channel.reply(hot, "UCpile001", "@pile1", "any news?")
    sync_until_done(account, page_limit=20)

    got = stored(account)
    assert set(got) == channel.all_ids() and len(got) == 45 + 1 + 12 + 7 + 50 + 1
    assert max(got.values()) == 1
    reply = TimelineEntry.objects.get(text="any news?")
    assert reply.in_reply_to == hot and reply.thread_id == hot
    assert (
        SocialIdentity.objects.get(network="youtube", external_id="UCangry0001").handle == "angry"
    )
    follows = TimelineEntry.objects.filter(account=account, kind="follow").count()
    assert follows == 7
    assert stream_row(account, "comments").cursor.isdigit()  # the walks finished


def test_the_refreshed_token_is_kept_for_the_next_run(account, channel):
    sync_account_run(account_id=account.pk)
    account.refresh_from_db()
    assert account.credentials["access_token"] == channel.access_token
    refreshes = channel.refreshes
    sync_account_run(account_id=account.pk)
    assert channel.refreshes == refreshes  # not refreshed again while valid


def test_quota_exceeded_waits_for_the_daily_reset_and_a_500_backs_off(account, channel):
    channel.comment("UCfan001", "@fan1", "hello")
    channel.faults.append((403, yt_error(403, "quotaExceeded", "The request cannot be completed")))
    sync_account_run(account_id=account.pk)
    comments = stream_row(account, "comments")
    assert comments.error_code == "rate_limited"
    reset = comments.retry_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (reset.hour, reset.minute, reset.second) == (0, 0, 0) and reset > datetime.now(UTC)
    time_passes(account)
    channel.faults.append((429, yt_error(429, "rateLimitExceeded")))
    sync_account_run(account_id=account.pk)
    assert stream_row(account, "comments").error_code == "rate_limited"
    time_passes(account)
    channel.faults.append((503, yt_error(503, "backendError")))
    sync_account_run(account_id=account.pk)
    failed = stream_row(account, "comments")
    assert "Comments: YouTube answered 503" in syncstream_error_text(failed)
    time_passes(account)
    sync_until_done(account)
    assert set(stored(account)) == channel.all_ids()


def test_malformed_threads_are_kept_as_failures(account, channel):
    from crm.models import SyncFailure

    channel.comment("UCfan001", "@fan1", "fine")
    broken = channel.comment("UCfan002", "@fan2", "broken")
    channel.threads[0]["snippet"]["topLevelComment"]["snippet"].pop("authorChannelId")
    sync_account_run(account_id=account.pk)
    assert set(stored(account)) == channel.all_ids() - {broken}
    assert SyncFailure.objects.get(account=account).external_id == broken


def test_an_agent_answers_a_comment_publicly(client, account, channel, manager, answer):
    thread = channel.comment("UCfan001", "@fan1", "is there a Spanish version?")
    reply_id = channel.reply(thread, "UCfan002", "@fan2", "I want to know too")
    sync_account_run(account_id=account.pk)
    entry = TimelineEntry.objects.get(external_id=reply_id)
    answer(client, manager, entry, "Yes, next week!", private=False)
    # A reply to a reply goes on the thread (YouTube has one level of replies).
    assert channel.inserted[-1] == {"parentId": thread, "textOriginal": "Yes, next week!"}
    out = TimelineEntry.objects.get(direction="out", kind="reply")
    assert out.external_id.startswith(f"{thread}.") and out.contact_id == entry.contact_id


def test_csat_goes_as_a_public_reply_where_there_are_no_dms(
    account, channel, django_capture_on_commit_callbacks
):
    from support.services import csat_request, ticket_open

    thread = channel.comment("UCangry0001", "@angry", "the update broke my router")
    sync_account_run(account_id=account.pk)
    entry = TimelineEntry.objects.get(external_id=thread)
    ticket = ticket_open(contact=entry.contact, entry=entry, subject="router")
    with django_capture_on_commit_callbacks(execute=True):
        survey = csat_request(ticket=ticket)
    assert survey is not None
    posted = channel.inserted[-1]
    assert posted["parentId"] == thread and "/csat/" in posted["textOriginal"]
