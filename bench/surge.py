"""Surge benchmark: a viral complaint on mastodon-mock, polled through the sync engine.

One brand post; between two polls 10,000 notifications arrive on it (``BENCH_SURGE_TOTAL``):
60 % likes, 25 % reposts, 10 % replies, 5 % piled-on complaint mentions from customers
Momento already knows, the first complaint itself liked past the team's virality
threshold (tests/crm/surge.py has the scenario; tests/crm/test_surge.py plays it at 300).
The second poll runs ``sync_account_run`` until the account has nothing more; each
page's follow-up (tickets, stage rules, search) runs inline as a worker would run it
(eager Celery), so the clock stops when the last item is on its timeline with its
ticket. Printed: seconds from the poll to the last item, items/s, what the peer holds
against what was stored (missing, duplicated), escalations and incidents.

``python -m bench surge`` (or ``make bench``). Needs PostgreSQL at ``DATABASE_URL``'s
server; the database it makes is dropped.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTAL = int(os.environ.get("BENCH_SURGE_TOTAL", "10000"))


def main() -> None:
    from bench.ingest import child_in_fresh_database

    # Follow-ups (and score refreshes) run inline, as soon as each page is stored.
    child_in_fresh_database(
        "bench.surge", CELERY_BROKER_URL="memory://", CELERY_TASK_ALWAYS_EAGER="1"
    )


def _poll(account_id: int) -> int:
    from crm.sync import sync_account_run

    pages = 0
    while True:
        result = sync_account_run(account_id=account_id)
        pages += result.pages
        if result.errors or result.skipped:
            raise RuntimeError(f"sync failed: {result.errors or result.skipped}")
        if not result.more:
            return pages


def child() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from contacts.models import Contact, TimelineEntry
    from crm.models import IngestBatch, SocialAccount, SyncStream
    from support.models import Incident, Team, Ticket
    from tests.crm.surge import SurgeShape, peer_notifications, surge_before, surge_post
    from tests.peers import mastodon_mock

    call_command("migrate", verbosity=0)
    shape = SurgeShape(total=TOTAL, complaint_likes=60)
    team = Team.objects.get(is_default=True)
    team.escalate_likes = 50
    team.save()
    print(
        f"surge: {shape.total:,} notifications on one post ({shape.likes:,} likes, "
        f"{shape.reposts:,} reposts, {shape.replies:,} replies, {shape.complaints:,} "
        f"complaints from customers), {len(shape.accounts()):,} accounts on mastodon-mock",
        flush=True,
    )
    with mastodon_mock(shape.accounts(), startup_timeout=300) as server:
        account = SocialAccount.objects.create(
            network="mastodon",
            handle="brand",
            base_url=server.base_url,
            credentials={"access_token": server.tokens["brand"]},
        )
        # From the start of the stream: min_id 0 walks forward from the oldest.
        SyncStream.objects.create(account=account, name="notifications", cursor="0")
        post_id = surge_before(server, shape)
        _poll(account.pk)
        Contact.objects.filter(identities__handle__startswith="cust").update(stage=2)
        started = time.perf_counter()
        surge_post(server, shape, post_id, workers=4)
        print(f"posting the surge on the peer took {time.perf_counter() - started:.0f} s")

        started = time.perf_counter()
        pages = _poll(account.pk)
        seconds = time.perf_counter() - started
        peer = peer_notifications(server)
    stored = TimelineEntry.objects.filter(account=account)
    held = sum(peer.values())
    count = stored.count()
    distinct = stored.values("external_id").distinct().count()
    print(
        f"second poll: {pages} pages, {shape.total:,} items on their timelines "
        f"{seconds:.1f} s after the poll began: {shape.total / seconds:,.0f} items/s "
        f"(fetch, store and follow-up on one process)"
    )
    print(
        f"peer holds {held:,} notifications; stored {count:,} ({held - distinct} missing, "
        f"{count - distinct} duplicated); follow-ups left undone: "
        f"{IngestBatch.objects.filter(done_at=None).count()}"
    )
    print(
        f"complaint tickets: {Ticket.objects.filter(opened_by_rule__startswith='Complaint').count()}; "
        f"escalated: {Ticket.objects.filter(escalated_at__isnull=False).count()}; "
        f"incidents: {Incident.objects.count()}"
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()
