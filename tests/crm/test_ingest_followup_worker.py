"""Follow-ups on a real Celery worker over Redis: pages stored, their follow-up tasks
queued; the worker is SIGKILLed while it works through them and the queue loses what
it held; a restarted worker and the beat sweep finish every batch, each once."""

from __future__ import annotations

import time
import warnings
from datetime import timedelta

import pytest
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
