"""A viral complaint lands whole, once: a surge of notifications on one brand post
between two polls on mastodon-mock, synced with small pages, then counted against what
the peer holds (0 missing, 0 duplicated), with one virality escalation and one
incident (tests/crm/surge.py has the scenario; bench/surge.py runs it at 10,000)."""

from __future__ import annotations

import pytest

from contacts.models import Contact, TimelineEntry
from core.choices import EntryKind
from crm.models import IngestBatch, SocialAccount, SyncStream
from crm.sync import sync_account_run
from support.models import Incident, Team, Ticket
from tests.crm.surge import SurgeShape, peer_notifications, surge_before, surge_post
from tests.factories import SocialAccountFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db]

SHAPE = SurgeShape(total=300, complaint_likes=12)


@pytest.fixture
def mastodon_accounts():
    return SHAPE.accounts()


def _poll(account_id: int) -> int:
    """Poll until the account has nothing more, with small pages; returns the pages."""
    pages = 0
    for _ in range(200):
        result = sync_account_run(account_id=account_id, page_limit=20, max_pages=5)
        pages += result.pages
        assert not result.errors and not result.skipped
        if not result.more:
            return pages
    raise AssertionError("the poll never caught up")


def test_surge_on_one_post_lands_whole_once_with_one_escalation_and_one_incident(
    mastodon_server,
):
    team = Team.objects.get(is_default=True)
    team.escalate_likes = 10
    team.incident_min_tickets = 3
    team.incident_min_shared_keywords = 2
    team.save()
    account = SocialAccountFactory(
        network="mastodon",
        handle="brand",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["brand"]},
    )
    # From the start of the stream: min_id 0 walks forward from the oldest.
    SyncStream.objects.create(account=account, name="notifications", cursor="0")
    post_id = surge_before(mastodon_server, SHAPE)
    _poll(account.pk)  # the first poll: the complainers' earlier hellos
    customers = Contact.objects.filter(identities__handle__startswith="cust")
    assert customers.count() == SHAPE.complaints
    customers.update(stage=2)  # they bought from us since

    surge_post(mastodon_server, SHAPE, post_id)
    pages = _poll(account.pk)  # the second poll: the surge, page after page
    assert pages >= SHAPE.total // 20

    peer = peer_notifications(mastodon_server)
    assert sum(peer.values()) == SHAPE.total + SHAPE.complaints  # the surge + the hellos
    stored = TimelineEntry.objects.filter(account=account)
    kinds = {
        kind: stored.filter(kind=kind).count()
        for kind in (EntryKind.LIKE, EntryKind.REPOST, EntryKind.MENTION, EntryKind.REPLY)
    }
    # 0 missing: every notification the peer holds is on a timeline, kind by kind.
    assert kinds[EntryKind.LIKE] == peer["favourite"] == SHAPE.likes
    assert kinds[EntryKind.REPOST] == peer["reblog"] == SHAPE.reposts
    assert (
        kinds[EntryKind.MENTION] + kinds[EntryKind.REPLY]
        == peer["mention"]
        == SHAPE.replies + 2 * SHAPE.complaints
    )
    # 0 duplicated: as many entries as the peer's notifications, each id once.
    assert stored.count() == sum(peer.values())
    assert stored.values("external_id").distinct().count() == stored.count()
    assert SocialAccount.objects.get(pk=account.pk).items_synced == stored.count()

    # Every follow-up ran (eager Celery runs it inline), none is left behind.
    assert not IngestBatch.objects.filter(done_at=None).exists()
    # Each customer's complaint opened a ticket; the first one, liked past the
    # threshold, escalated; the pile-on is one incident.
    tickets = Ticket.objects.filter(opened_by_rule__startswith="Complaint")
    assert tickets.count() == SHAPE.complaints
    [escalated] = Ticket.objects.filter(escalated_at__isnull=False)
    assert escalated.contact.identities.get().handle.startswith("cust0@")
    [incident] = Incident.objects.all()
    assert incident.tickets.count() == SHAPE.complaints
