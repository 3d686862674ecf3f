"""The sync engine: leases, cursors committed with their page, beat fan-out, backfill
queueing and the sync_account command (on mastodon-mock)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contacts.models import TimelineEntry
from crm import sync
from crm.models import SocialAccount, SyncStream
from crm.selectors import socialaccount_backfill_percent
from crm.sync import (
    LeaseLost,
    SyncBusy,
    backfill_queue,
    sync_account_run,
    sync_due_account_ids,
    sync_lease_claim,
    sync_lease_release,
    sync_queue,
)
from crm.tasks import sync_due_accounts
from tests.factories import SocialAccountFactory


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice"]


@pytest.fixture
def account(db, mastodon_server):
    return SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )


def test_lease_is_exclusive_and_expires(db):
    account = SocialAccountFactory()
    token = sync_lease_claim(account_id=account.pk)
    assert token
    assert sync_lease_claim(account_id=account.pk) is None
    with pytest.raises(SyncBusy):
        sync_account_run(account_id=account.pk)
    SocialAccount.objects.filter(pk=account.pk).update(
        sync_lease_until=timezone.now() - timedelta(seconds=1)
    )
    taken_over = sync_lease_claim(account_id=account.pk)
    assert taken_over and taken_over != token
    sync_lease_release(account_id=account.pk, token=token)  # the old holder: no effect
    assert SocialAccount.objects.get(pk=account.pk).sync_lease_token == taken_over
    sync_lease_release(account_id=account.pk, token=taken_over)
    assert SocialAccount.objects.get(pk=account.pk).sync_lease_until is None


@pytest.mark.peers
def test_pages_and_cursor_commit_together(account, mastodon_server, monkeypatch):
    alice = mastodon_server.client("alice")
    for n in range(5):
        alice.status_post(f"@brand hello {n}")
    # From the start of the stream: min_id 0 walks forward from the oldest.
    SyncStream.objects.create(account=account, name="notifications", cursor="0")
    first = sync_account_run(account_id=account.pk, page_limit=2, max_pages=2)
    assert (first.outcomes["notifications"].pages, first.created, first.more) == (2, 4, True)
    cursor = account.streams.get(name="notifications").cursor

    # The lease is lost while the next page is being stored: that page rolls back,
    # cursor included.
    original = sync._renew

    def lose(account_id, token, **changes):
        raise LeaseLost("taken over")

    monkeypatch.setattr(sync, "_renew", lose)
    with pytest.raises(LeaseLost):
        sync_account_run(account_id=account.pk, page_limit=2)
    # (Social entries only: the stage rules may add a stage-change entry of their own.)
    assert TimelineEntry.objects.filter(network="mastodon").count() == 4
    assert account.streams.get(name="notifications").cursor == cursor

    monkeypatch.setattr(sync, "_renew", original)
    rest = sync_account_run(account_id=account.pk, page_limit=2)
    assert rest.created == 1 and not rest.more
    assert TimelineEntry.objects.filter(network="mastodon").count() == 5


def test_beat_fans_out_to_due_active_accounts(db, monkeypatch):
    now = timezone.now()
    due = SocialAccountFactory(next_sync_at=now - timedelta(seconds=5))
    never = SocialAccountFactory(next_sync_at=None)
    SocialAccountFactory(next_sync_at=now + timedelta(minutes=5))
    SocialAccountFactory(state="paused", next_sync_at=None)
    SocialAccountFactory(state="needs_reconnect", next_sync_at=None)
    queued = []
    monkeypatch.setattr("crm.tasks.sync_account.delay", queued.append)
    assert sync_due_accounts() == 2
    assert sorted(queued) == sorted([due.pk, never.pk])
    # Their next sync moved one interval ahead: the next beat does not queue them again.
    assert sync_due_account_ids(now=now + timedelta(seconds=30)) == []
    assert sorted(sync_due_account_ids(now=now + timedelta(seconds=61))) == sorted(queued)


def test_sync_and_backfill_queue_after_commit(db, django_capture_on_commit_callbacks, monkeypatch):
    account = SocialAccountFactory()
    sent = []
    monkeypatch.setattr(
        "crm.tasks.sync_account.apply_async",
        lambda args, task_id: sent.append(("sync", args, task_id)),
    )
    monkeypatch.setattr(
        "crm.tasks.backfill_account.apply_async",
        lambda args, task_id: sent.append(("backfill", args, task_id)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        sync_id = sync_queue(account_id=account.pk)
        backfill_id = backfill_queue(account_id=account.pk)
        assert sent == []
    assert sent == [("sync", (account.pk,), sync_id), ("backfill", (account.pk,), backfill_id)]
    account.refresh_from_db()
    assert account.backfill_state == "queued" and socialaccount_backfill_percent(account) == 0


@pytest.mark.peers
def test_command_syncs_with_progress_and_fails_loudly(account, mastodon_server):
    mastodon_server.client("alice").status_post("@brand hi there")
    out, err = StringIO(), StringIO()
    call_command("sync_account", str(account.pk), stdout=out, stderr=err)
    assert "1 new item(s)" in out.getvalue()
    assert "notifications: " in out.getvalue() and "dms: " in out.getvalue()
    assert "page" in err.getvalue()  # tqdm's bar

    # One stream fails: the command says which and exits non-zero; the other synced.
    mastodon_server.inject_fault(path="/api/v1/notifications", type="status", status=503, count=1)
    out = StringIO()
    with pytest.raises(CommandError, match=r"Stream\(s\) failed: Notifications \(notifications\)"):
        call_command("sync_account", str(account.pk), stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert any(
        line.startswith("notifications: failed: Notifications: Mastodon answered 503; retrying at")
        for line in lines
    ), lines
    assert any(line.startswith("dms: ") and "page(s)" in line for line in lines), lines
    with pytest.raises(CommandError, match="No social account"):
        call_command("sync_account", "999999", stdout=StringIO(), stderr=StringIO())
    SocialAccount.objects.filter(pk=account.pk).update(state="needs_reconnect")
    with pytest.raises(CommandError, match="not synced"):
        call_command("sync_account", str(account.pk), stdout=StringIO(), stderr=StringIO())


def test_admin_shows_failures_and_backfill_progress(db, client):
    from django.contrib.auth import get_user_model

    from crm.models import SyncFailure

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    account = SocialAccountFactory(backfill_state="running", backfill_pages=3)
    SyncFailure.objects.create(
        account=account, network="bluesky", external_id="at://x/1", reason="Malformed <b>"
    )
    assert client.get("/admin/crm/syncfailure/?q=Malformed").status_code == 200
    SyncStream.objects.create(
        account=account,
        name="dms",
        status="retrying",
        error_code="chat_error",
        error_params={"network": "Bluesky", "status": 500},
        retry_at=timezone.now() + timedelta(minutes=5),
    )
    page = client.get(f"/admin/crm/socialaccount/{account.pk}/change/")
    assert page.status_code == 200
    assert b"Malformed &lt;b&gt;" in page.content
    # Each stream, with its error naming the stream, in the admin's language.
    assert "Direct messages: Bluesky&#x27;s chat service answered 500; retrying at" in (
        page.content.decode()
    )
