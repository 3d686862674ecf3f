"""A backfill is state in the database, not a message in flight: beat's sweeper resumes
every unfinished backfill whose message is overdue and whose lease is free; a superseded
message does nothing; a busy lease or a far rate-limit reset hands over to the sweeper
instead of leaving the backfill ``running`` for good; connecting never races the first
sync. (The same, with a real worker SIGKILLed: ``test_kill_survival.py``.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone

from contacts.models import TimelineEntry
from crm import tasks
from crm.models import BackfillState, SocialAccount
from crm.networks.base import RateLimited
from crm.sync import (
    BackfillSuperseded,
    backfill_grace,
    backfill_queue,
    backfill_step,
    backfill_sweep_due,
    sync_account_run,
)
from tests.factories import SocialAccountFactory

RUNNING = BackfillState.RUNNING


def _backfilling(**fields) -> SocialAccount:
    fields.setdefault("backfill_state", RUNNING)
    fields.setdefault("backfill_task", "old")
    return SocialAccountFactory(**fields)


def test_sweep_resumes_overdue_unfinished_backfills_with_a_free_lease(db, monkeypatch):
    now = timezone.now()
    past, future = now - timedelta(seconds=1), now + timedelta(minutes=5)
    overdue = _backfilling(backfill_due_at=past)
    dead_lease = _backfilling(
        backfill_state=BackfillState.QUEUED, sync_lease_until=past, sync_lease_token="dead"
    )
    legacy = _backfilling(backfill_due_at=None, backfill_task="")
    errored = _backfilling(backfill_due_at=past, state="error")
    _backfilling(backfill_due_at=future)  # its message is still expected
    _backfilling(backfill_due_at=past, sync_lease_until=future, sync_lease_token="live")
    _backfilling(backfill_due_at=past, backfill_state=BackfillState.DONE)
    _backfilling(backfill_due_at=past, backfill_state=BackfillState.FAILED)
    _backfilling(backfill_due_at=past, state="paused")
    _backfilling(backfill_due_at=past, state="needs_reconnect")

    sent = []
    monkeypatch.setattr(
        tasks.backfill_account,
        "apply_async",
        lambda args, task_id: sent.append((args[0], task_id)),
    )
    assert tasks.sync_sweep() == 4
    swept = {overdue.pk, dead_lease.pk, legacy.pk, errored.pk}
    assert {account_id for account_id, _ in sent} == swept
    for account_id, task_id in sent:
        account = SocialAccount.objects.get(pk=account_id)
        # The new message is the one that continues it, and it has a grace to start.
        assert account.backfill_task == task_id != "old"
        assert account.backfill_due_at > now + backfill_grace() - timedelta(seconds=5)
    # The next beat does not send a second message while the first is expected.
    assert backfill_sweep_due() == []
    later = now + backfill_grace() + timedelta(seconds=5)
    assert {account_id for account_id, _ in backfill_sweep_due(now=later)} == swept


def test_a_superseded_message_does_nothing(db):
    account = _backfilling(backfill_task="new", backfill_cursors={"done": []})
    with pytest.raises(BackfillSuperseded):
        backfill_step(account_id=account.pk, task_id="old")
    assert tasks.backfill_account.apply((account.pk,), task_id="old").get() is None
    account.refresh_from_db()
    assert account.backfill_task == "new" and account.sync_lease_token == ""
    assert account.backfill_cursors == {"done": []}


@pytest.fixture
def fake_retry(monkeypatch):
    retried = []

    def retry(*args, **kwargs):
        retried.append(kwargs)
        raise Retry("retry", when=kwargs.get("eta"))

    monkeypatch.setattr(tasks.backfill_account, "retry", retry)
    return retried


def _run_backfill(account, *, retries: int):
    tasks.backfill_account.push_request(id=account.backfill_task, retries=retries)
    try:
        return tasks.backfill_account.run(account.pk)
    finally:
        tasks.backfill_account.pop_request()


def test_a_busy_lease_retries_then_hands_over_to_the_sweeper(db, fake_retry):
    held_until = timezone.now() + timedelta(minutes=1)
    account = _backfilling(sync_lease_until=held_until, sync_lease_token="a-sync")
    with pytest.raises(Retry):
        _run_backfill(account, retries=0)
    eta = fake_retry[0]["eta"]
    assert timedelta(seconds=3) < eta - timezone.now() <= timedelta(seconds=tasks.BUSY_COUNTDOWN)
    account.refresh_from_db()
    assert account.backfill_due_at == eta + backfill_grace()  # the sweeper waits for it

    # Retries are capped, but the backfill is not left running for good: the last one
    # hands it to the sweeper, which resumes it once the lease is free.
    assert _run_backfill(account, retries=tasks.BUSY_RETRIES).startswith("busy")
    account.refresh_from_db()
    assert account.backfill_state == RUNNING and account.backfill_due_at <= timezone.now()
    assert backfill_sweep_due() == []  # the lease is still held
    assert [pk for pk, _ in backfill_sweep_due(now=held_until + timedelta(seconds=1))] == [
        account.pk
    ]


def test_a_far_rate_limit_reset_is_left_to_the_sweeper(db, fake_retry, monkeypatch):
    account = _backfilling()
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
    account.refresh_from_db()
    assert account.backfill_due_at == far + backfill_grace()
    assert backfill_sweep_due(now=far) == []
    assert len(backfill_sweep_due(now=far + backfill_grace() + timedelta(seconds=1))) == 1


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
    """The backfill's first step is the first poll (it sets the cursors), the walk back
    starts after it at the newest item: what arrives in between is read by one of them."""
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
        task_id = backfill_queue(account_id=account.pk)

    assert backfill_step(account_id=account.pk, task_id=task_id, page_limit=3)
    account.refresh_from_db()
    assert account.backfill_state == RUNNING and account.cursors.get("notifications")
    assert account.backfill_items == TimelineEntry.objects.filter(account=account).count() > 0

    # More than a page arrives between the first poll and the walk.
    posted += [alice.status_post(f"@brand during the backfill {n}")["id"] for n in range(20)]
    steps = 0
    while backfill_step(account_id=account.pk, task_id=task_id, page_limit=3):
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
