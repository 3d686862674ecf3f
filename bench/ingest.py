"""Ingest benchmark: normalised interactions into timelines on PostgreSQL.

20,000 items (``BENCH_INGEST_ITEMS``) from a fifth as many distinct authors go through
``crm.ingest.ingest_interactions`` into a fresh PostgreSQL database; each run is followed
at once by its floor: one ``COPY`` of the same entry rows (contact and identity ids
included) into the same, emptied ``crm_timelineentry`` table with its triggers off.
Printed: items/s for each run, its floor's rows/s and the ratio.

Runs, at pages of 100 and of 1,000, each from an empty database:

* ``storage path``: the page transactions alone, classification off (it is measured on
  its own): authors resolved and created, entries upserted, failures and counters, the
  page's ``IngestBatch``; the follow-ups are left queued;
* ``full path``: the same with ``lib.classify`` on every text and each page's follow-up
  (search documents, touch, stage rules, ticket rules) run right after it;
* ``sync through mastodon-mock``: ``sync_account_run`` against a local mastodon-mock, for
  the cost of one account's sync (round trips + ingest) and so how many accounts one
  worker keeps up with.

``python -m bench ingest`` (or ``make bench``). Needs PostgreSQL at ``DATABASE_URL``'s
server (default postgres://postgres@127.0.0.1:5432); the database it makes is dropped.
"""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
#: 20,000 items from 4,000 authors by default (``BENCH_INGEST_ITEMS`` for more; the
#: authors are a fifth of the items).
ITEMS = int(os.environ.get("BENCH_INGEST_ITEMS", "20000"))
AUTHORS = max(1, ITEMS // 5)
# A brand account's notifications: half carry text (mentions, replies, quotes, DMs).
KINDS = [
    ("mention", 25),
    ("reply", 15),
    ("quote", 5),
    ("dm", 5),
    ("like", 30),
    ("repost", 17),
    ("follow", 3),
]
WORDS = [
    "order",
    "router",
    "fibre",
    "bill",
    "invoice",
    "plan",
    "support",
    "thanks",
    "love",
    "broken",
    "again",
    "slow",
    "pedido",
    "factura",
    "gracias",
    "roto",
    "lento",
    "ayuda",
    "precio",
    "envío",
    "tienda",
    "app",
    "update",
    "great",
]
TEMPLATES = [
    "@brand my {w} is {w} again, order #{n} never arrived!!",
    "Hola @brand, ¿cuándo llega mi {w}? pedido {n}",
    "love the new {w} from @brand, great {w} 🚀 #{n}",
    "@brand is the {w} available in Spain? asking for {w} {n}",
    "just saw @brand {w} {w} — not sure about the {w} ({n})",
]


def _admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/momento")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def child_in_fresh_database(module: str, **env: str) -> None:
    """Run ``python -m <module> --child`` on a database made for it and dropped after,
    with Django's settings from ``env`` over the environment."""
    import psycopg

    admin = _admin_url()
    name = f"momento_bench_{module.rsplit('.', 1)[-1]}_{os.getpid()}"
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        child_env = dict(
            os.environ,
            DATABASE_URL=_with_db(admin, name),
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="1",
            LOG_LEVEL="WARNING",
            **env,
        )
        subprocess.run(
            [sys.executable, "-m", module, "--child"], cwd=ROOT, env=child_env, check=True
        )
    finally:
        with psycopg.connect(
            admin.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    # Tasks queued by what is measured (follow-ups, score refreshes) go nowhere, cheaply.
    child_in_fresh_database("bench.ingest", CELERY_BROKER_URL="memory://")


# -- in the child process (Django set up on the fresh database) ------------------------


def _items():
    from crm.networks.base import Author, Interaction

    rnd = random.Random(42)
    authors = [
        Author(
            external_id=f"did:plc:bench{a:06d}",
            handle=f"person{a}.bsky.social",
            display_name=f"Person {a}",
            profile_url=f"https://bsky.app/profile/person{a}.bsky.social",
            follower_count=rnd.randint(0, 50_000),
        )
        for a in range(AUTHORS)
    ]
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for n in range(ITEMS):
        author = authors[n % AUTHORS]
        kind = rnd.choice(kinds)
        text = ""
        if kind in ("mention", "reply", "quote", "dm"):
            text = rnd.choice(TEMPLATES).format(w=rnd.choice(WORDS), n=n)
            text = text.replace("{w}", rnd.choice(WORDS))
        uri = f"at://{author.external_id}/app.bsky.feed.post/3l{n:010d}"
        items.append(
            Interaction(
                network="bluesky",
                external_id=uri,
                kind=kind,
                author=author,
                occurred_at=start + timedelta(seconds=n),
                text=text,
                url=f"https://bsky.app/profile/{author.handle}/post/3l{n:010d}",
                in_reply_to="at://did:plc:brand/app.bsky.feed.post/3lparent",
                thread_id="at://did:plc:brand/app.bsky.feed.post/3lparent",
                like_count=rnd.randint(0, 40),
                repost_count=rnd.randint(0, 10),
                reply_count=rnd.randint(0, 5),
                raw={
                    "uri": uri,
                    "cid": f"bafyreib{n:040d}",
                    "author": {
                        "did": author.external_id,
                        "handle": author.handle,
                        "displayName": author.display_name,
                        "avatar": "",
                        "labels": [],
                    },
                    "reason": kind,
                    "reasonSubject": "at://did:plc:brand/app.bsky.feed.post/3lparent",
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "text": text,
                        "createdAt": (start + timedelta(seconds=n)).isoformat(),
                        "langs": ["en"],
                    },
                    "isRead": False,
                    "indexedAt": (start + timedelta(seconds=n)).isoformat(),
                    "labels": [],
                },
            )
        )
    return items


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_timelineentry, crm_syncfailure, crm_ingestbatch, "
            "contacts_stagechange, contacts_socialidentity, contacts_contact CASCADE"
        )
        cursor.execute("UPDATE crm_socialaccount SET items_synced = 0, items_failed = 0")
        cursor.execute("VACUUM ANALYZE")


def _ingest(account, items, *, page: int, classify_text: bool, followup: bool) -> float:
    """Seconds to store ``items`` in pages of ``page``; with ``followup`` each page's
    follow-up (search, touch, stage rules, ticket rules) runs right after it, as a
    worker would, and is counted."""
    from crm.ingest import ingest_interactions
    from crm.ingest.followup import ingest_followup_run
    from crm.models import IngestBatch

    started = time.perf_counter()
    for start in range(0, len(items), page):
        ingest_interactions(
            account=account, items=items[start : start + page], classify_text=classify_text
        )
        if followup:
            for batch_id in IngestBatch.objects.filter(done_at=None).values_list("pk", flat=True):
                ingest_followup_run(batch_id=batch_id)
    return time.perf_counter() - started


def _copy(rows: list[tuple]) -> float:
    """The floor: one ``COPY`` of the same rows into the emptied table with its triggers
    off (the search trigger would otherwise do part of the ingest's work inside the
    floor and flatter the ratio). Foreign keys and indexes are checked as for ingest."""
    from django.db import connection, transaction

    from crm.ingest.upsert import COLUMNS

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_timelineentry CASCADE")
        cursor.execute("VACUUM ANALYZE crm_timelineentry")
        cursor.execute("ALTER TABLE crm_timelineentry DISABLE TRIGGER USER")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = ", ".join(COLUMNS)
        with cursor.cursor.copy(
            f"COPY crm_timelineentry ({columns}, created_at) FROM STDIN"
        ) as copy:
            now = datetime.now(UTC)
            for row in rows:
                copy.write_row((*row, now))
    seconds = time.perf_counter() - started  # the commit (deferred key checks) included
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE crm_timelineentry ENABLE TRIGGER USER")
    return seconds


def _copy_rows(account, items) -> list[tuple]:
    """The rows the ingest path wrote, built the way it builds them."""
    from contacts.models import SocialIdentity
    from core.choices import Network
    from crm.ingest.cleaning import Row, rows_prepare
    from crm.ingest.upsert import row_values

    identities = {
        ext: (pk, contact)
        for pk, ext, contact in SocialIdentity.objects.values_list(
            "pk", "external_id", "contact_id"
        )
    }
    rows: list[Row] = rows_prepare(items, [], Network.BLUESKY, classify_text=False)
    return [row_values(account, row, identities) for row in rows]


def _machine() -> dict:
    from django.db import connection

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "postgresql": pg,
        "python": platform.python_version(),
    }


def _sync_through_mastodon_mock() -> dict:
    """Cost of syncing accounts through ``sync_account_run`` on a local mastodon-mock:
    an account with 40 new mentions, and one with nothing new (the usual minute)."""
    from crm.models import SocialAccount, SyncStream
    from crm.sync import sync_account_run
    from tests.peers import mastodon_mock

    with mastodon_mock(["brand", "alice"]) as server:
        alice = server.client("alice")
        for n in range(40):
            alice.status_post(f"@brand is order {n} on its way?")
        account = SocialAccount.objects.create(
            network="mastodon",
            handle="brand-bench",
            base_url=server.base_url,
            credentials={"access_token": server.tokens["brand"]},
        )
        # From the start of the stream: min_id 0 walks forward from the oldest.
        SyncStream.objects.create(account=account, name="notifications", cursor="0")
        started = time.perf_counter()
        busy = sync_account_run(account_id=account.pk)
        busy_s = time.perf_counter() - started
        runs = 20
        started = time.perf_counter()
        for _ in range(runs):
            sync_account_run(account_id=account.pk)
        idle_s = (time.perf_counter() - started) / runs
    return {
        "busy_items": busy.created,
        "busy_pages": busy.pages,
        "busy_s": busy_s,
        "idle_s": idle_s,
    }


def child() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from crm.models import SocialAccount

    call_command("migrate", verbosity=0)
    account = SocialAccount.objects.create(network="bluesky", handle="brand.bench", base_url="")
    items = _items()
    texts = sum(1 for i in items if i.text)
    machine = _machine()
    print(f"machine: {json.dumps(machine)}")
    print(f"items: {len(items):,} from {AUTHORS:,} authors, {texts:,} with text")

    # Each ingest run is followed at once by a raw COPY of the same rows into the same
    # (emptied) table, so both see the same machine load; the ratio pairs them.
    results = []

    def run(label: str, batch: list, *, page: int, classify_text: bool, followup: bool):
        _reset()
        seconds = _ingest(account, batch, page=page, classify_text=classify_text, followup=followup)
        rate = len(batch) / seconds
        rows = _copy_rows(account, batch)
        copy_rate = len(rows) / _copy(rows)
        results.append((label, page, rate, copy_rate))
        print(
            f"{label}, pages of {page}: {rate:>8,.0f} items/s ({seconds:.1f} s); "
            f"floor (COPY of the same rows, triggers off): {copy_rate:>8,.0f} rows/s; "
            f"ratio {rate / copy_rate:.2f}",
            flush=True,
        )

    for page in (100, 1000):
        run(
            "storage path (page transactions)",
            items,
            page=page,
            classify_text=False,
            followup=False,
        )
        run(
            "full path (classify, page, follow-up)",
            items,
            page=page,
            classify_text=True,
            followup=True,
        )

    _reset()
    _ingest(account, items, page=1000, classify_text=False, followup=True)
    seconds = _ingest(account, items, page=1000, classify_text=False, followup=True)
    print(
        f"ingest again (idempotent, nothing new), pages of 1000: {len(items) / seconds:>8,.0f} items/s"
    )
    from lib.classify import classify

    sample = [i.text for i in items if i.text][:5000]
    started = time.perf_counter()
    for text in sample:
        classify(text)
    print(f"lib.classify alone: {len(sample) / (time.perf_counter() - started):,.0f} texts/s")

    sync = _sync_through_mastodon_mock()
    print(
        f"sync_account_run on mastodon-mock: {sync['busy_items']} new items in {sync['busy_pages']} "
        f"pages took {sync['busy_s'] * 1000:.0f} ms; a sync with nothing new {sync['idle_s'] * 1000:.0f} ms"
    )
    per_minute = 60 / sync["idle_s"]
    print(
        f"one worker process (concurrency 1) polls about {per_minute:,.0f} quiet accounts a minute on loopback"
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()
