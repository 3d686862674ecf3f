"""A stored page's follow-up (crm.ingest.followup): the page commits with the storage
only and a durable ``IngestBatch``; search documents, touch, stage rules and ticket
rules follow in one set-based step, idempotent, re-queued by the beat sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, SocialIdentity, StageChange, TimelineEntry
from contacts.search import contact_search
from core.signals import entries_ingested
from crm.ingest import ingest_interactions
from crm.ingest.followup import ingest_followup_run, ingest_followups_due
from crm.models import IngestBatch
from crm.networks.base import Author
from crm.tasks import ingest_followups_sweep
from support.models import Ticket, TicketLink
from tests.crm.test_ingest import item
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    return SocialAccountFactory(network="bluesky")


@pytest.fixture
def queued(settings):
    """Celery as in production: the follow-up is a task queued on commit (here it goes
    nowhere), so the test runs it by hand, as a worker would."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"


def page(start: int, size: int, *, dm_every: int = 5) -> list:
    """``size`` items from new authors: every ``dm_every``-th a DM, every 7th a follow,
    the rest mentions, each with a word of its own for search."""
    items = []
    for n in range(start, start + size):
        kind = "dm" if n % dm_every == 0 else "follow" if n % 7 == 0 else "mention"
        items.append(item(n, kind=kind, text=f"router{n} broken again"))
    return items


def test_page_commits_storage_only_and_the_followup_does_the_rest(account, queued, manager):
    from django.test import Client

    stats = ingest_interactions(account=account, items=page(0, 20))
    assert stats.created == 20
    # In the inbox at once: the entries, their contacts and identities.
    assert TimelineEntry.objects.filter(account=account).count() == 20
    batch = IngestBatch.objects.get()
    assert sorted(batch.created_ids) == sorted(stats.created_ids) and batch.done_at is None
    # Not yet: tickets, stage changes, last interaction, search by timeline words.
    assert not Ticket.objects.exists() and not StageChange.objects.exists()
    assert not Contact.objects.filter(last_interaction_at__isnull=False).exists()
    assert not contact_search(Contact.objects.all(), "router5").exists()
    # The sync status page and the API show the backlog.
    client = Client()
    client.force_login(manager)
    html = client.get(reverse("crm:sync-status")).content.decode()
    assert "followup-backlog" in html and "1 page" in html
    api = client.get(f"/api/v1/social-accounts/{account.pk}/").json()
    assert api["followup_backlog"] == 1

    changes = ingest_followup_run(batch_id=batch.pk)
    dms = [n for n in range(20) if n % 5 == 0]
    assert Ticket.objects.count() == len(dms) == TicketLink.objects.count()
    assert changes == StageChange.objects.count() > 0
    assert Contact.objects.filter(last_interaction_at__isnull=False).count() == 20
    assert list(contact_search(Contact.objects.all(), "router5").values_list("pk", flat=True)) == [
        TimelineEntry.objects.get(external_id__endswith="/5").contact_id
    ]
    batch.refresh_from_db()
    assert batch.done_at is not None
    assert client.get(f"/api/v1/social-accounts/{account.pk}/").json()["followup_backlog"] == 0

    # Idempotent: running it again (a redelivered task) does nothing more.
    assert ingest_followup_run(batch_id=batch.pk) is None
    assert Ticket.objects.count() == len(dms)


def test_a_followup_that_dies_is_rolled_back_and_swept_again(account, queued):
    ingest_interactions(account=account, items=page(0, 10))
    batch = IngestBatch.objects.get()

    def die(**kwargs):
        raise RuntimeError("worker killed")

    entries_ingested.connect(die, dispatch_uid="test.die")
    try:
        with pytest.raises(RuntimeError):
            ingest_followup_run(batch_id=batch.pk)
    finally:
        entries_ingested.disconnect(dispatch_uid="test.die")
    # Nothing of the half-done follow-up stayed: no stage change, no touch.
    assert not StageChange.objects.exists() and not Ticket.objects.exists()
    assert IngestBatch.objects.get().done_at is None
    # The sweep leaves a batch alone during its grace, then queues it again.
    assert ingest_followups_due() == []
    later = timezone.now() + timedelta(minutes=1)
    assert ingest_followups_due(now=later) == [batch.pk]
    ingest_followup_run(batch_id=batch.pk)
    assert Ticket.objects.count() == 2  # the DMs 0 and 5
    assert ingest_followups_due(now=later) == []


def test_the_beat_sweep_runs_undone_followups(account, settings):
    """With eager Celery the sweep's tasks run inline: a batch whose first task was lost
    (left undone here on purpose) is done by the sweep."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    ingest_interactions(account=account, items=page(0, 10))
    IngestBatch.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert ingest_followups_sweep.apply().get() == 1
    assert IngestBatch.objects.get().done_at is not None
    assert Ticket.objects.count() == 2


def test_eager_celery_runs_the_followup_inline(account):
    stats = ingest_interactions(account=account, items=page(0, 10))
    assert IngestBatch.objects.get().done_at is not None
    assert Ticket.objects.count() == 2
    assert stats.stage_changes == StageChange.objects.count() > 0


@pytest.mark.parametrize("dm_every", [1, 3])
def test_followup_statements_do_not_grow_with_the_page(
    account, queued, django_assert_max_num_queries, dm_every
):
    """Tickets opened and joined in bulk: the same number of statements for a page of
    10 and of 200, whatever share of it are DMs (each opening a ticket) and follows
    (each a stage change)."""
    # Warm up: a page whose authors then write again, so both pages also join tickets.
    ingest_interactions(account=account, items=page(0, 10, dm_every=dm_every))
    ingest_followup_run(batch_id=IngestBatch.objects.get().pk)

    def run(start: int, size: int):
        items = page(start, size, dm_every=dm_every)
        # Half of the DMs come from people whose ticket is open: they join it.
        for n in range(0, 10, dm_every):
            items.append(
                item(
                    10_000 + start + n,
                    kind="dm",
                    author=Author(external_id=f"did:plc:a{n}", handle=f"a{n}.test"),
                    text="any news?",
                )
            )
        stats = ingest_interactions(account=account, items=items)
        batch = IngestBatch.objects.get(done_at=None)
        with django_assert_max_num_queries(60) as captured:
            ingest_followup_run(batch_id=batch.pk)
        return stats, len(captured.captured_queries)

    small, small_queries = run(98, 10)  # 98 is a follow, as in the big page
    big, big_queries = run(1_000, 200)
    assert small_queries == big_queries
    joining = len(range(0, 10, dm_every))
    assert (small.created, big.created) == (10 + joining, 200 + joining)
    dms = sum(1 for n in [*range(0, 10), *range(98, 108), *range(1000, 1200)] if n % dm_every == 0)
    assert Ticket.objects.count() == dms
    assert TicketLink.objects.count() == dms + 2 * len(range(0, 10, dm_every))


def test_identity_trigger_updates_each_contact_once_per_statement(account):
    authors = [
        Author(external_id=f"did:plc:p{n}", handle=f"person{n}.test", display_name=f"P {n}")
        for n in range(30)
    ]
    ingest_interactions(account=account, items=[item(n, author=a) for n, a in enumerate(authors)])
    found = contact_search(Contact.objects.all(), "person17")
    assert list(found.values_list("pk", flat=True)) == [
        SocialIdentity.objects.get(external_id="did:plc:p17").contact_id
    ]
    # A renamed handle reaches the document (the update trigger, per statement).
    SocialIdentity.objects.filter(external_id="did:plc:p17").update(handle="renamed17.test")
    assert contact_search(Contact.objects.all(), "renamed17").count() == 1
    assert not contact_search(Contact.objects.all(), "person17").exists()
