"""Survive any kill: a REAL Celery worker (prefork, on Redis) runs the connect-time sync and
backfill of a Mastodon brand account with hundreds of mentions waiting, is SIGKILLed again
and again at random points (sometimes one pool process, sometimes the whole worker with
its pool), is started again each time, while more mentions and DMs arrive and the peer
answers a 429 and a 500; then, the backfill done, a burst of mentions arrives between two
polls and the worker is killed twice more during the catch-up that reads them. Beat is
played by the test: every second it sends what beat sends (``sync_due_accounts`` and the
sweeper ``sync_sweep``) through the broker.

Then it counts: every status the peer holds for the brand is stored exactly once, one
contact per author, the backfill is done and the lease is free.

The worker is pointed at this test's database (committed rows: ``transactional_db``) and
at the broker database of this run, with small pages, a short lease and short backoffs
(settings from the environment) so the whole scene fits in a few minutes on a busy
machine (about 100 s on a quiet one).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from contacts.models import Contact, SocialIdentity, TimelineEntry
from crm.models import BackfillState, SocialAccount
from crm.services import socialaccount_connect
from tests.crm.worker import Beat, Worker

pytestmark = [pytest.mark.peers, pytest.mark.django_db(transaction=True)]
AUTHORS = ["alice", "bob", "carol", "dave", "erin"]
BEFORE = 300  # mentions waiting when the account is connected
DMS_BEFORE = 5
DURING = 60  # mentions posted while the worker is being killed
DMS_DURING = 5
KILLS = 6  # during the backfill
BURST = 80  # mentions posted between polls once the backfill is done
CATCH_UP_KILLS = 2  # during the catch-up that reads them


@pytest.fixture
def mastodon_accounts():
    return ["brand", *AUTHORS]


#: Small pages so the backfill is many batches; a short lease so a dead worker's lease
#: is taken over within the test; short backoffs so
#: the 500 is retried quickly. The worker gets them from its environment, this process
#: (which connects the account) from ``settings``.
SYNC_SETTINGS = {
    "MOMENTO_SYNC_PAGE_SIZE": 20,
    "MOMENTO_BACKFILL_MAX_PAGES": 100,
    "MOMENTO_SYNC_LEASE_SECONDS": 5,
    "MOMENTO_SYNC_INTERVAL_SECONDS": 1,
    "MOMENTO_SYNC_BACKOFF_SECONDS": 1,
}


def _post(server, author: str, n: int, dm: bool = False) -> str:
    client = server.client(author)
    status = client.status_post(
        f"@brand {'private' if dm else 'public'} message {n} from {author}",
        visibility="direct" if dm else "public",
    )
    return str(status["id"])


def test_sigkilled_worker_loses_nothing(mastodon_server, tmp_path, settings):
    from config.celery import app

    for name, value in SYNC_SETTINGS.items():
        setattr(settings, name, value)

    clock = {"start": time.monotonic()}
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    host = mastodon_server.base_url.removeprefix("http://")
    posted: list[str] = []

    def slow() -> None:
        """Every page takes a while, so the kills land between a page's fetch and its
        commit."""
        mastodon_server.inject_fault(
            path="/api/v1/notifications", type="latency", delay_ms=60, count=None
        )

    def fail_next(**effect) -> None:
        """The next notifications request fails (the mock applies the first rule that
        matches, so this one goes before the latency)."""
        mastodon_server.clear_faults()
        mastodon_server.inject_fault(path="/api/v1/notifications", **effect)
        slow()

    with ThreadPoolExecutor(max_workers=4) as pool:
        posts = [(n, False) for n in range(BEFORE)] + [(n, True) for n in range(DMS_BEFORE)]
        posted.extend(
            pool.map(
                lambda job: _post(mastodon_server, AUTHORS[job[0] % len(AUTHORS)], *job), posts
            )
        )

    clock["posted"] = time.monotonic()
    slow()
    worker = Worker(
        tmp_path / "worker.log",
        queues="default,sync",
        pool="prefork",
        concurrency=2,
        env=SYNC_SETTINGS,
    )
    beat = Beat()
    rng = random.Random(int(os.environ.get("MOMENTO_KILL_SEED", "10")))
    kills = {"pool process": 0, "worker": 0}
    try:
        worker.start()
        # The real connect service, its tasks sent to the worker (not run eagerly here).
        app.conf.task_always_eager = False
        account = socialaccount_connect(
            network="mastodon",
            kind="brand",
            handle="brand",
            base_url=mastodon_server.base_url,
            credentials={"access_token": mastodon_server.tokens["brand"]},
            actor=None,
        )
        beat.start()

        def post_during() -> None:
            for n in range(DURING):
                posted.append(_post(mastodon_server, AUTHORS[n % len(AUTHORS)], BEFORE + n))
                if n % (DURING // DMS_DURING) == 0:
                    posted.append(
                        _post(mastodon_server, AUTHORS[n % len(AUTHORS)], BEFORE + n, dm=True)
                    )
                time.sleep(0.12)

        poster = threading.Thread(target=post_during, daemon=True)
        poster.start()

        def kill(k: int) -> None:
            """The k-th kill: a pool process (even k) or the whole worker, restarted."""
            if k % 2 == 0 and worker.kill_pool_process():
                kills["pool process"] += 1
                return
            worker.kill()
            kills["worker"] += 1
            worker.start()

        for k in range(KILLS):
            time.sleep(rng.uniform(0.8, 2.5))
            if k == 2:
                fail_next(
                    type="ratelimit",
                    headers={"Retry-After": "1", "X-RateLimit-Reset": str(int(time.time()) + 1)},
                )
            if k == 4:
                fail_next(status=500)
            kill(k)
        clock["killed"] = time.monotonic()
        poster.join(timeout=30)
        assert not poster.is_alive()

        def stored() -> list[str]:
            return list(
                TimelineEntry.objects.filter(account_id=account.pk).values_list(
                    "external_id", flat=True
                )
            )

        def settle(*, timeout: float) -> bool:
            """Wait until every posted status is stored, the backfill done, the lease free."""
            expected = {f"{host}/s/{sid}" for sid in posted}
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                account.refresh_from_db()
                if (
                    set(stored()) >= expected
                    and account.backfill_state == BackfillState.DONE
                    and not account.sync_lease_token
                ):
                    return True
                time.sleep(0.3)
            return False

        backfilled = settle(timeout=90)
        clock["settled"] = time.monotonic()
        if backfilled:
            # A catch-up: a burst between polls, read by polling (the backfill is done)
            # while the worker is killed twice more.
            burst = threading.Thread(
                target=lambda: posted.extend(
                    _post(mastodon_server, AUTHORS[n % len(AUTHORS)], n) for n in range(BURST)
                ),
                daemon=True,
            )
            burst.start()
            for k in range(CATCH_UP_KILLS):
                time.sleep(rng.uniform(0.5, 1.5))
                kill(KILLS + k)
            burst.join(timeout=60)
            assert not burst.is_alive()
            settle(timeout=60)
        clock["caught up"] = time.monotonic()
    finally:
        app.conf.task_always_eager = True  # as the test settings have it
        beat.stop.set()
        worker.kill(signal.SIGTERM)
        broker.flushdb()

    # What the peer holds for the brand: its mention notifications (DMs mention it too).
    # The 429 and the 500 were served (a rule is dropped when its count is spent).
    rules = requests.get(f"{mastodon_server.base_url}/api/v1/_mock/faults", timeout=10).json()
    assert [rule["effect"]["type"] for rule in rules] == ["latency"], rules
    brand = mastodon_server.client("brand")
    mastodon_server.clear_faults()
    notes = brand.fetch_remaining(brand.notifications(limit=40))
    held = {f"{host}/s/{n['status']['id']}" for n in notes if n["type"] == "mention"}
    assert held == {f"{host}/s/{sid}" for sid in posted}
    assert len(held) == len(posted) == BEFORE + DMS_BEFORE + DURING + DMS_DURING + BURST

    entries = Counter(stored())
    missing = held - set(entries)
    duplicated = {eid: n for eid, n in entries.items() if n > 1}
    print(
        f"\npeer holds {len(held)}, stored {len(set(entries) & held)}, missing {len(missing)}, "
        f"duplicated {len(duplicated)}; kills {kills}; worker starts {worker.starts}; "
        f"backfill {account.backfill_state} pages {account.backfill_pages} "
        f"items {account.backfill_items}; seconds: posting {clock['posted'] - clock['start']:.0f}, "
        f"kills {clock['killed'] - clock['posted']:.0f}, settling {clock['settled'] - clock['killed']:.0f}, "
        f"catch-up {clock['caught up'] - clock['settled']:.0f}"
    )
    assert not missing, f"{len(missing)} of {len(held)} never stored\n{worker.tail()}"
    assert not duplicated
    assert set(entries) == held  # nothing stored that the peer does not hold
    assert kills["worker"] >= KILLS // 2 and sum(kills.values()) == KILLS + CATCH_UP_KILLS
    dms = TimelineEntry.objects.filter(account_id=account.pk, kind="dm").count()
    assert dms == DMS_BEFORE + DMS_DURING

    identities = SocialIdentity.objects.filter(network="mastodon")
    handles = sorted(identities.values_list("handle", flat=True))
    assert [handle.split("@")[0] for handle in handles] == AUTHORS  # one identity each
    assert Contact.objects.count() == len(AUTHORS)

    account.refresh_from_db()
    assert account.backfill_state == BackfillState.DONE
    assert account.state == SocialAccount.State.ACTIVE
    assert account.sync_lease_token == ""
    assert account.sync_lease_until is None
