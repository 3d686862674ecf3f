"""Follow-ups on a real Celery worker over Redis: pages stored, their follow-up tasks
queued; the worker is SIGKILLed while it works through them and the queue loses what
it held; a restarted worker and the beat sweep finish every batch, each once."""

from __future__ import annotations

import time
import warnings
from datetime import timedelta

import psycopg
import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import StageChange
from crm.ingest import ingest_interactions
from crm.models import IngestBatch
from support.models import Ticket, TicketLink
from tests.crm.test_ingest import item
from tests.crm.worker import Worker
from tests.factories import SocialAccountFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True)]

PAGES, SIZE = 12, 25


def _send(name: str) -> None:
    from celery.exceptions import AlwaysEagerIgnored

    from config.celery import app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        app.send_task(name, queue="default")


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_killed_worker_and_lost_messages_lose_no_followup(settings, tmp_path):
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    account = SocialAccountFactory(network="bluesky")
    for p in range(PAGES):
        # Every fifth item a DM from a new author: each opens one ticket.
        items = [item(p * 1000 + n, kind="dm" if n % 5 == 0 else "mention") for n in range(SIZE)]
        ingest_interactions(account=account, items=items)
    dms = PAGES * len(range(0, SIZE, 5))
    assert IngestBatch.objects.filter(done_at=None).count() == PAGES  # all queued, none run

    worker = Worker(tmp_path / "worker.log", queues="default")
    worker.start()
    try:
        # Kill it as soon as it has done some of the follow-ups.
        assert _wait(lambda: IngestBatch.objects.exclude(done_at=None).exists(), 60)
        worker.kill()
        left = IngestBatch.objects.filter(done_at=None).count()
        assert 0 < left < PAGES  # killed part-way through
        app.control.purge()  # what the killed worker held is lost with the queue
        # Nothing half-done: each batch is done with all its tickets, or not at all.
        done_ids = [i for b in IngestBatch.objects.exclude(done_at=None) for i in b.created_ids]
        assert TicketLink.objects.filter(entry_id__in=done_ids).count() == Ticket.objects.count()

        # The beat sweep (after the grace) queues every batch left undone.
        IngestBatch.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        worker.start()
        _send("crm.tasks.ingest_followups_sweep")
        assert _wait(lambda: not IngestBatch.objects.filter(done_at=None).exists(), 120), (
            worker.log.read_text()[-3000:]
        )
    finally:
        worker.kill()
    # Every DM on exactly one ticket, one ticket per DM author, one stage change each.
    assert Ticket.objects.count() == dms == TicketLink.objects.count()
    assert (
        StageChange.objects.values("contact_id").distinct().count() == StageChange.objects.count()
    )


def test_followup_runs_while_the_next_page_holds_the_account(settings, tmp_path):
    """A sync stores page after page; each page's transaction updates its account's row
    (counters, lease) and holds that row until it commits. The follow-up of the page
    before must not skip its batch for it: with no sweep running, every batch is done by
    its own task while another transaction holds the account (it used to lock the
    account too, ``FOR UPDATE SKIP LOCKED`` over the join, found nothing and left the
    batch to the sweep's 30 s grace)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    account = SocialAccountFactory(network="bluesky")
    pages = 3
    for p in range(pages):
        items = [item(p * 1000 + n, kind="dm" if n == 0 else "mention") for n in range(5)]
        ingest_interactions(account=account, items=items)
    assert IngestBatch.objects.filter(done_at=None).count() == pages

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
    ) as next_page:
        # What the next page's transaction does to the account, left uncommitted.
        next_page.execute(
            "UPDATE crm_socialaccount SET items_synced = items_synced WHERE id = %s",
            [account.pk],
        )
        worker = Worker(tmp_path / "worker.log", queues="default")
        worker.start()
        try:
            done = _wait(lambda: not IngestBatch.objects.filter(done_at=None).exists(), 90)
            assert done, worker.tail()
        finally:
            worker.kill()
            next_page.rollback()
    assert Ticket.objects.count() == pages  # one DM, one ticket, per page


def test_followup_is_published_only_when_the_page_commits(settings):
    """A page stored inside a caller's transaction publishes its follow-up when that
    transaction commits, never before (a worker would find no batch and leave the page
    to the sweep); the message is on the broker's queue right after the commit."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()
    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    account = SocialAccountFactory(network="bluesky")
    with transaction.atomic():
        ingest_interactions(account=account, items=[item(1), item(2)])
        assert queue.llen("default") == 0
    assert queue.llen("default") == 1
    assert IngestBatch.objects.filter(done_at=None).count() == 1
    app.control.purge()
