"""A REAL Celery worker (``tests.crm.worker``) walks Instagram's comments and
LinkedIn's comments, reactions and mentions, more than a page of each waiting when the
account is connected, and is SIGKILLed (the worker and its pool) three times mid-walk and
started again, while the network answers a 429 and a 500 and new items arrive on lists
walked and not yet walked. Each page commits with the walk's state (the stream's cursor),
so every start goes on from the last page stored. Then it counts what the fake holds
against what was stored: none missing, none twice, in the network's order.

The fakes are ``tests.crm.meta_fake`` and ``tests.crm.linkedin_fake`` in their wire
formats, served over real HTTP (``tests.crm.http_fake``) since the worker is another
process; beat is played by the test (``sync_due_accounts`` and ``sync_sweep`` every
second), as in ``test_kill_survival``."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import redis

from contacts.models import TimelineEntry
from crm.models import SocialAccount, SyncStream
from crm.networks.base import CursorWalk
from crm.services import socialaccount_connect
from tests.crm.conftest import held_against_stored, time_passes
from tests.crm.http_fake import Request, Served
from tests.crm.linkedin_fake import FakeOrg, li_error
from tests.crm.meta_fake import FakePage, graph_error
from tests.crm.worker import Beat, Worker

pytestmark = pytest.mark.django_db(transaction=True)

SYNC_SETTINGS = {
    "MOMENTO_SYNC_PAGE_SIZE": 10,
    "MOMENTO_SYNC_LEASE_SECONDS": 3,
    "MOMENTO_SYNC_INTERVAL_SECONDS": 1,
    "MOMENTO_SYNC_BACKOFF_SECONDS": 1,
}
KILLS = 3
#: Each list page takes this long, so a kill lands between a page's fetch and its commit.
PAGE_SECONDS = 0.12


@dataclass
class Scene:
    network: str
    handle: str
    credentials: dict
    served: Served
    held: Callable[[], dict]
    late: Callable[[int], None]
    rate_limit: tuple
    server_error: tuple
    faults: list
    walked: tuple[str, ...]


def _slow(answer):
    def slowly(request: Request):
        if (
            "comments" in request.url
            or "reactions" in request.url
            or "Notifications" in request.url
        ):
            time.sleep(PAGE_SECONDS)
        return answer(request)

    return slowly


def instagram_scene() -> Scene:
    ig = FakePage(instagram=True, username="momento.shop")
    media = [ig.post(f"post {n}") for n in range(3)]
    for n in range(150):
        ig.comment(media[n % 3], f"55{n % 9:02d}", f"user_{n % 9}", f"comment {n}")
    tops = ig.comments[:9]
    for n in range(15):
        top = tops[n % 9]
        ig.comment(top.post_id, "5599", "grumpy_99", f"reply {n}", parent=top.id)
    served = Served(_slow(lambda r: ig._get(r) if r.method == "GET" else ig._post(r)))

    def late(n: int) -> None:
        with served.lock:
            ig.comment(media[n % 3], f"58{n:02d}", f"late_{n}", f"late {n}")
            top = tops[n % 9]  # an old comment: its reply sits on a late page
            ig.comment(top.post_id, "5899", "late_reply", f"late reply {n}", parent=top.id)

    return Scene(
        network="instagram",
        handle="momento.shop",
        credentials={"access_token": ig.token, "app_secret": "s3cret", "verify_token": "vt"},
        served=served,
        held=lambda: {c.id: c.created for c in ig.comments},
        late=late,
        rate_limit=(400, graph_error(4, "Application request limit reached"), {}),
        server_error=(500, graph_error(2, "Service temporarily unavailable"), {}),
        faults=ig.faults,
        walked=("comments",),
    )


def linkedin_scene() -> Scene:
    org = FakeOrg()
    posts = [org.post() for _ in range(3)]
    for n in range(120):
        org.comment(posts[n % 3], f"p{n % 7}", f"comment {n}")
    for n in range(40):
        org.react(posts[n % 3], f"r{n}")
    for n in range(35):
        org.mention(f"m{n % 5}", f"Great talk by @Momento Shop {n}")

    def answer(request: Request):
        if request.url.endswith("/oauth/v2/accessToken"):
            return org._token(request)
        return org._get(request) if request.method == "GET" else org._post(request)

    served = Served(_slow(answer))

    def late(n: int) -> None:
        with served.lock:
            org.comment(posts[n % 3], f"late{n}", f"late {n}")
            org.react(posts[(n + 1) % 3], f"late{n}")
            org.mention(f"late{n}", f"late mention {n}")

    return Scene(
        network="linkedin",
        handle="momento-shop",
        credentials={
            "client_id": "86abc",
            "client_secret": "WPL_AP1.secret",
            "refresh_token": org.refresh_token,
        },
        served=served,
        held=org.times,
        late=late,
        rate_limit=(429, li_error(429, "TOO_MANY_REQUESTS", "throttled"), {"Retry-After": "1"}),
        server_error=(500, li_error(500, "INTERNAL_SERVER_ERROR", "oops"), {}),
        faults=org.faults,
        walked=("comments", "reactions", "mentions"),
    )


def _mid_walk(account) -> bool:
    """A stream of the account is mid-walk: its stored cursor has lists still to read."""
    return any(
        CursorWalk.parse(cursor).todo
        for cursor in SyncStream.objects.filter(account=account).values_list("cursor", flat=True)
    )


@pytest.mark.parametrize("make", [instagram_scene, linkedin_scene], ids=["instagram", "linkedin"])
def test_sigkilled_mid_walk_the_worker_resumes_and_loses_nothing(make, tmp_path, settings):
    from config.celery import app

    for name, value in SYNC_SETTINGS.items():
        setattr(settings, name, value)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    scene = make()
    initial = len(scene.held())
    worker = Worker(tmp_path / "worker.log", queues="default,sync", env=SYNC_SETTINGS)
    beat = Beat()
    kills_mid_walk = 0
    try:
        worker.start()
        app.conf.task_always_eager = False  # the connect's sync goes to the worker
        account = socialaccount_connect(
            network=scene.network,
            kind="brand",
            handle=scene.handle,
            base_url=scene.served.base_url,
            credentials=scene.credentials,
            actor=None,
        )
        beat.start()

        def stored() -> int:
            return TimelineEntry.objects.filter(account=account).exclude(external_id="").count()

        def wait_for(condition, timeout: float, what: str) -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                assert time.monotonic() < deadline, f"{what}\n{worker.tail()}"
                time.sleep(0.05)

        for k in range(KILLS):
            target = initial * (k + 1) // (KILLS + 2)
            wait_for(lambda t=target: stored() >= t, 60, f"never stored {target}")
            if k == 1:
                # A 429 and a 500 mid-walk; the 429's wait passes (the test's stand-in).
                with scene.served.lock:
                    scene.faults.extend([scene.rate_limit, scene.server_error])
                wait_for(lambda: not scene.faults, 30, "the faults were never served")
                time_passes(account)
            worker.kill()
            kills_mid_walk += _mid_walk(account)
            assert stored() < initial + 2 * k * 3, "the kill should land mid-walk"
            scene.late(k)
            worker.start()
        app.conf.task_always_eager = True

        def settled() -> bool:
            account.refresh_from_db()
            held = scene.held()
            got = set(
                TimelineEntry.objects.filter(account=account).values_list("external_id", flat=True)
            )
            return set(held) <= got

        time_passes(account)
        wait_for(settled, 120, "never caught up")
        beat.stop.set()
        wait_for(
            lambda: not SocialAccount.objects.get(pk=account.pk).sync_lease_token,
            30,
            "the lease was never released",
        )
    finally:
        app.conf.task_always_eager = True
        beat.stop.set()
        worker.kill(signal.SIGTERM)
        broker.flushdb()
        scene.served.stop()

    counts = held_against_stored(account, scene.held())
    print(
        f"\n{scene.network}: fake holds {len(scene.held())}, {counts}, kills mid-walk {kills_mid_walk}"
    )
    assert counts == {"missing": 0, "duplicated": 0, "unknown": 0, "in_order": True}
    assert kills_mid_walk == KILLS  # each kill left a walk half done, and it went on
    assert len(scene.held()) > initial  # items arrived during the walks
    assert account.state == SocialAccount.State.ACTIVE
    for name in scene.walked:
        assert SyncStream.objects.get(account=account, name=name).error_code == ""
