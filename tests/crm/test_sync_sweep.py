"""A catch-up or a first poll is state on the streams' rows, not a message in flight:
beat's sweeper queues a sync for every account with unfinished stream work whose lease
is free; a busy lease or a far rate-limit reset hands over to the sweeper instead of
leaving the backfill ``running`` for good; sync tasks are requeued on a lost worker with
the visibility timeout above the longest countdown; connecting never races the first
sync. (The same, with a real worker SIGKILLed: ``test_kill_survival.py``.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone

from contacts.models import TimelineEntry
from crm import tasks
from crm.models import BackfillState, SocialAccount, SyncStream
from crm.networks.base import RateLimited
from crm.sync import backfill_queue, backfill_step, streams_resume_due, sync_account_run
from tests.factories import SocialAccountFactory

RUNNING = BackfillState.RUNNING


def _walking(account: SocialAccount, **fields) -> SyncStream:
    fields.setdefault("walking", True)
    return SyncStream.objects.create(
        account=account, name=fields.pop("name", "notifications"), **fields
    )


def test_sweep_queues_a_sync_for_unfinished_stream_work_with_a_free_lease(db, monkeypatch):
    now = timezone.now()
    past, future = now - timedelta(seconds=1), now + timedelta(minutes=5)
    walking = SocialAccountFactory()
    _walking(walking)
    retrying = SocialAccountFactory()
    _walking(retrying, walking=False, status=SyncStream.Status.RETRYING, retry_at=past)
    dead_lease = SocialAccountFactory(sync_lease_until=past, sync_lease_token="dead")
    _walking(dead_lease)
    _walking(
        SocialAccountFactory(), walking=False, status=SyncStream.Status.RETRYING, retry_at=future
    )
    _walking(SocialAccountFactory(sync_lease_until=future, sync_lease_token="live"))
    _walking(SocialAccountFactory(), walking=False)  # nothing unfinished
    _walking(SocialAccountFactory(state="paused"))
    _walking(SocialAccountFactory(state="needs_reconnect"))

    sent = []
    monkeypatch.setattr(tasks.sync_account, "delay", lambda account_id: sent.append(account_id))
    assert tasks.sync_sweep() == 3
    assert sorted(sent) == sorted([walking.pk, retrying.pk, dead_lease.pk])


@pytest.fixture
def fake_retry(monkeypatch):
    retried = []

    def retry(*args, **kwargs):
        retried.append(kwargs)
        raise Retry("retry", when=kwargs.get("eta"))

    monkeypatch.setattr(tasks.backfill_account, "retry", retry)
    return retried


def _run_backfill(account, *, retries: int):
    tasks.backfill_account.push_request(id="b1", retries=retries)
    try:
        return tasks.backfill_account.run(account.pk)
    finally:
        tasks.backfill_account.pop_request()


def test_a_busy_lease_retries_then_hands_over_to_the_sweeper(db, fake_retry):
    held_until = timezone.now() + timedelta(minutes=1)
    account = SocialAccountFactory(
        backfill_state=RUNNING, sync_lease_until=held_until, sync_lease_token="a-sync"
    )
    _walking(account)
    with pytest.raises(Retry):
        _run_backfill(account, retries=0)
    assert fake_retry[0]["countdown"] == tasks.BUSY_COUNTDOWN

    # Retries are capped, but the backfill is not left running for good: the last one
    # hands it to the sweeper, which resumes it once the lease is free.
    assert _run_backfill(account, retries=tasks.BUSY_RETRIES).startswith("busy")
    account.refresh_from_db()
    assert account.backfill_state == RUNNING
    assert streams_resume_due() == []  # the lease is still held
    assert streams_resume_due(now=held_until + timedelta(seconds=1)) == [account.pk]


def test_a_far_rate_limit_reset_is_left_to_the_sweeper(db, fake_retry, monkeypatch):
    account = SocialAccountFactory(backfill_state=RUNNING)
    near = timezone.now() + timedelta(minutes=2)
    far = timezone.now() + timedelta(seconds=settings.MOMENTO_TASK_MAX_COUNTDOWN + 600)

    def limited(at):
        def step(**kwargs):
            raise RateLimited("slow down", reset_at=at)

        return step

    monkeypatch.setattr(tasks, "backfill_step", limited(near))
    with pytest.raises(Retry):
        _run_backfill(account, retries=0)
    assert fake_retry[0]["eta"] == near  # a near reset waits in the worker

    # A reset beyond the longest countdown would outlive the visibility timeout.
    monkeypatch.setattr(tasks, "backfill_step", limited(far))
    assert _run_backfill(account, retries=0).startswith("rate limited")
    assert len(fake_retry) == 1


def test_sync_leaves_a_far_rate_limit_reset_to_beat(db, monkeypatch):
    far = timezone.now() + timedelta(hours=2)

    def limited(**kwargs):
        raise RateLimited("slow down", reset_at=far)

    monkeypatch.setattr(tasks, "sync_account_run", limited)
    monkeypatch.setattr(
        tasks.sync_account, "retry", lambda **kw: pytest.fail("must not wait in a worker")
    )
    assert tasks.sync_account.run(1).startswith("rate limited")


def test_sync_tasks_are_requeued_when_their_worker_is_lost():
    for task in (
        tasks.sync_account,
        tasks.backfill_account,
        tasks.sync_sweep,
        tasks.sync_due_accounts,
    ):
        assert task.acks_late and task.reject_on_worker_lost, task.name
    # Explicit caps: Celery's `retry(max_retries=None)` would mean "the default" anyway.
    assert tasks.sync_account.max_retries == tasks.backfill_account.max_retries == 8
    assert settings.CELERY_BEAT_SCHEDULE["sync-sweep"] == {
        "task": "crm.tasks.sync_sweep",
        "schedule": 60.0,
    }
    # No countdown may outlive the broker's visibility timeout (it would run twice).
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest = settings.MOMENTO_TASK_MAX_COUNTDOWN + settings.CELERY_TASK_TIME_LIMIT
    assert visibility > longest
    assert max(tasks._backoff(n) for n in range(30)) <= settings.MOMENTO_TASK_MAX_COUNTDOWN


@pytest.mark.peers
@pytest.mark.parametrize("mastodon_accounts", [["brand", "alice"]], indirect=True)
def test_connect_never_races_its_first_sync(
    db, mastodon_server, django_capture_on_commit_callbacks
):
    """The backfill is the streams' first polls; a sync in between goes on from the
    stored state: what arrives meanwhile is read by one of them, once."""
    alice = mastodon_server.client("alice")
    host = mastodon_server.base_url.removeprefix("http://")
    posted = [alice.status_post(f"@brand before connect {n}")["id"] for n in range(7)]
    account = SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )
    with django_capture_on_commit_callbacks(execute=False):
        backfill_queue(account_id=account.pk)

    assert backfill_step(account_id=account.pk, page_limit=3)
    account.refresh_from_db()
    assert account.backfill_state == RUNNING

    # More than a page arrives between the backfill's steps, and a sync runs among them.
    posted += [alice.status_post(f"@brand during the backfill {n}")["id"] for n in range(20)]
    sync_account_run(account_id=account.pk, page_limit=3, max_pages=1)
    steps = 0
    while backfill_step(account_id=account.pk, page_limit=3):
        steps += 1
        assert steps < 40
    while sync_account_run(account_id=account.pk, page_limit=3).more:
        pass

    stored = list(
        TimelineEntry.objects.filter(account=account).values_list("external_id", flat=True)
    )
    assert sorted(stored) == sorted(f"{host}/s/{sid}" for sid in posted)  # each once
    account.refresh_from_db()
    assert account.backfill_state == BackfillState.DONE and account.sync_lease_token == ""
