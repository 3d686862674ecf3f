"""A REAL Celery worker on Redis, SIGKILLed in the middle of a sync and started again:
no duplicate, no gap, and the cursor always matches what is stored.

The worker is a subprocess (``celery -A config worker -Q sync``) with eager mode off,
pointed at this test's database (committed rows: ``transactional_db``) and at the
broker database of this branch. Redis would hand the killed task's unacknowledged
message back only after its visibility timeout (an hour), so the test queues the sync
again, as the next beat would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount, SyncStream
from tests.factories import SocialAccountFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
TOTAL = 120


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice"]


def _worker_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.REDIS_URL or settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        MOMENTO_SYNC_LEASE_SECONDS="2",
        CONN_MAX_AGE="0",
    )
    return env


class Worker:
    def __init__(self, log: Path):
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.write_text("")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "sync",
                "--pool",
                "solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"sync-test-{os.getpid()}@127.0.0.1",
            ],
            cwd=ROOT,
            env=_worker_env(),
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while " ready." not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker not ready:\n" + self.log.read_text()[-3000:]
            time.sleep(0.1)

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)


def _queue_sync(account_id: int) -> None:
    """Send through the broker (the test settings' eager mode does not apply to it)."""
    from celery.exceptions import AlwaysEagerIgnored

    from config.celery import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        app.send_task("crm.tasks.sync_account", args=[account_id], queue="sync")


def _stored() -> set[str]:
    """Social entries (the engagement stage rule adds a stage-change entry of its own)."""
    return set(
        TimelineEntry.objects.filter(network="mastodon").values_list("external_id", flat=True)
    )


def test_worker_killed_mid_sync_resumes_without_duplicates_or_gaps(mastodon_server, tmp_path):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    alice = mastodon_server.client("alice")
    for n in range(TOTAL):
        alice.status_post(f"@brand message {n}")
    host = mastodon_server.base_url.removeprefix("http://")
    brand = mastodon_server.client("brand")
    notes = brand.fetch_remaining(brand.notifications(limit=40))
    status_of = {int(n["id"]): f"{host}/s/{n['status']['id']}" for n in notes}
    assert len(status_of) == TOTAL

    account = SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )
    # From the start of the stream: min_id 0 walks forward from the oldest.
    stream = SyncStream.objects.create(account=account, name="notifications", cursor="0")
    # Slow pages, so the kill lands between two page commits.
    mastodon_server.inject_fault(
        path="/api/v1/notifications", type="latency", delay_ms=800, count=None
    )

    def consistent() -> set[str]:
        """The stored entries are exactly the notifications up to the cursor."""
        cursor = int(SyncStream.objects.get(pk=stream.pk).cursor)
        stored = _stored()
        assert stored == {sid for nid, sid in status_of.items() if nid <= cursor}
        return stored

    worker = Worker(tmp_path / "worker.log")
    try:
        worker.start()
        _queue_sync(account.pk)
        deadline = time.monotonic() + 30
        while not TimelineEntry.objects.exists():
            assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
            time.sleep(0.02)
        worker.kill()
        stored = consistent()
        assert 0 < len(stored) < TOTAL, "the kill should land mid-sync"
        assert SocialAccount.objects.get(pk=account.pk).sync_lease_token  # held by the dead

        worker.start()
        time.sleep(2.5)  # the dead worker's lease expires (MOMENTO_SYNC_LEASE_SECONDS=2)
        _queue_sync(account.pk)
        deadline = time.monotonic() + 60
        while len(_stored()) < TOTAL:
            assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while SocialAccount.objects.get(pk=account.pk).sync_lease_token:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        worker.kill(signal.SIGTERM)
        broker.flushdb()

    consistent()
    assert TimelineEntry.objects.filter(network="mastodon").count() == TOTAL  # no duplicate
    assert SocialIdentity.objects.filter(handle__startswith="alice@").count() == 1
    account.refresh_from_db()
    assert int(SyncStream.objects.get(pk=stream.pk).cursor) == max(status_of)
    assert account.items_synced == TOTAL
    assert account.last_error == ""
