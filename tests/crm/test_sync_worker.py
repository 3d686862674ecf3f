"""A REAL Celery worker on Redis, SIGKILLed in the middle of a sync and started again:
no duplicate, no gap, and the cursor always matches what is stored.

The worker is a subprocess (``celery -A config worker -Q sync``) with eager mode off,
pointed at this test's database (committed rows: ``transactional_db``) and at the
broker database of this branch. Redis would hand the killed task's unacknowledged
message back only after its visibility timeout (an hour), so the test queues the sync
again, as the next beat would.
"""

from __future__ import annotations

import signal
import time

import pytest
import redis
from django.conf import settings

from contacts.models import SocialIdentity, TimelineEntry
from crm.models import SocialAccount, SyncStream
from tests.crm.worker import Worker, send_task
from tests.factories import SocialAccountFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True)]
TOTAL = 120


@pytest.fixture
def mastodon_accounts():
    return ["brand", "alice"]


def _queue_sync(account_id: int) -> None:
    send_task("crm.tasks.sync_account", account_id)


def _network_entries():
    """What sync stored (internal events, e.g. a stage change, have no network id)."""
    return TimelineEntry.objects.exclude(external_id="")


def _stored() -> set[str]:
    return set(_network_entries().values_list("external_id", flat=True))


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

    worker = Worker(tmp_path / "worker.log", env={"MOMENTO_SYNC_LEASE_SECONDS": 2})
    try:
        worker.start()
        _queue_sync(account.pk)
        deadline = time.monotonic() + 30
        while not _network_entries().exists():
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
    assert _network_entries().count() == TOTAL  # no duplicate
    assert SocialIdentity.objects.filter(handle__startswith="alice@").count() == 1
    account.refresh_from_db()
    assert int(SyncStream.objects.get(pk=stream.pk).cursor) == max(status_of)
    assert account.items_synced == TOTAL
    assert account.last_error == ""
