"""bench/timeline: the contact page, the timeline API and the contact search at
1,000,000 timeline entries over 100,000 contacts, in a fresh PostgreSQL database.

    python -m bench timeline            # or: make bench

Loads with COPY (indexes built afterwards, as a restore would), then times, one client
at a time, through Django's test client logged in as a salesperson (the full stack:
middleware, permissions, templates, serializers) and, beside each, the same SQL's
``EXPLAIN ANALYZE`` execution time from ``psql`` in the same run. The database is
``<DATABASE_URL's name>_bench_timeline`` on the same server, dropped afterwards
(``BENCH_KEEP=1`` keeps it). Environment: ``BENCH_CONTACTS`` (100000), ``BENCH_ENTRIES``
(1000000), ``BENCH_RUNS`` (30).
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "100000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
BUSY = 60_000  # entries of the busiest contact: 1,200 pages of 50
PAGE = 50
DEEP_PAGE = 1000


def main() -> None:
    """Run in a child process so Django is set up against the bench database only."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/momento")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/timeline needs PostgreSQL (DATABASE_URL=postgres://...)")
    name = (parts.path.lstrip("/") or "momento") + "_bench_timeline"
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
        "BENCH_ADMIN_URL": urlunsplit(parts._replace(path="/postgres")),
        "BENCH_DB": name,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": "memory://",
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-c", "from bench.timeline import run; run()"], env=env, check=True
    )


# --- data -------------------------------------------------------------------------------

SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "co",
    "da",
    "de",
    "di",
    "do",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "go",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "ni",
    "no",
    "pa",
    "pe",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "sa",
    "se",
    "si",
    "so",
    "ta",
    "te",
    "ti",
    "to",
    "va",
    "ve",
    "vi",
    "za",
    "zo",
]


def _vocabulary(rng: random.Random, n: int = 5000) -> list[str]:
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def _sentences() -> list[str]:
    from demo import data as demo

    out = []
    for lang in demo.TEXTS.values():
        for texts in lang.values():
            out += [t.format(brand="momentofibra") for t in texts]
    return out


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["BENCH_ADMIN_URL"], autocommit=True) as conn:
        conn.execute(sql)


def load(rng: random.Random) -> dict:
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from demo import data as demo

    timings = {}
    started = time.perf_counter()
    sales = User.objects.create_user("bench-sales", password="x")
    sales.groups.add(Group.objects.get(name="Sales"))
    now = datetime.now(UTC).replace(microsecond=0)
    vocabulary = _vocabulary(rng)
    sentences = _sentences()
    networks = ("bluesky", "mastodon", "x")
    kinds = ["mention"] * 5 + ["reply"] * 3 + ["quote", "like", "like", "repost", "dm", "follow"]
    sentiments = ["", "", "positive", "neutral", "negative"]

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK/search triggers
        cursor.execute(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'crm_timelineentry' AND indexname <> 'crm_timelineentry_pkey'"
        )
        timeline_indexes = cursor.fetchall()
        for _, index in timeline_indexes:
            cursor.execute(f'DROP INDEX "{index}"')
        raw_cursor = cursor.cursor

        t0 = time.perf_counter()
        with raw_cursor.copy(
            "COPY contacts_contact (display_name, stage, email, phone, company, language, score,"
            " score_reasons, last_interaction_at, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(CONTACTS):
                p = demo.person(rng, n)
                last = now - timedelta(minutes=rng.randrange(525_600)) if n % 10 else None
                copy.write_row(
                    (
                        p["name"],
                        rng.choice((0, 0, 0, 1, 1, 2)),
                        f"user{n}@example.com" if n % 3 == 0 else "",
                        "",
                        p["company"],
                        p["lang"],
                        rng.randrange(100),
                        "[]",
                        last,
                        now,
                        now,
                    )
                )
        cursor.execute("SELECT min(id), max(id) FROM contacts_contact")
        first_id, last_id = cursor.fetchone()
        with raw_cursor.copy(
            "COPY contacts_socialidentity (contact_id, network, external_id, handle, display_name,"
            " profile_url, avatar_url, follower_count, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n, contact_id in enumerate(range(first_id, last_id + 1)):
                for k in range(1 if n % 3 else 2):
                    network = networks[(n + k) % 3]
                    handle = f"user{n}" + (".bsky.social" if network == "bluesky" else "")
                    copy.write_row(
                        (contact_id, network, f"bench-{n}-{k}", handle, "", "", "", None, now, now)
                    )
        timings["contacts_and_identities_copy_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        busy_id = first_id
        with raw_cursor.copy(
            "COPY crm_timelineentry (contact_id, kind, network, external_id, text, url, direction,"
            " in_reply_to, thread_id, occurred_at, created_at, raw, language, intent, sentiment,"
            " like_count, repost_count, reply_count) FROM STDIN"
        ) as copy:
            for n in range(ENTRIES):
                contact_id = busy_id if n < BUSY else rng.randint(first_id + 1, last_id)
                kind = kinds[n % len(kinds)]
                words = " ".join(rng.choice(vocabulary) for _ in range(4))
                text = (
                    ""
                    if kind in ("like", "repost", "follow")
                    else f"{rng.choice(sentences)} {words}"
                )
                if n % 20_000 == 7:
                    text += " zumbido"  # a rare word, 50 entries
                network = networks[n % 3]
                copy.write_row(
                    (
                        contact_id,
                        kind,
                        network,
                        f"bench-{n}",
                        text,
                        "",
                        "out" if n % 9 == 0 else "in",
                        "",
                        "",
                        now - timedelta(seconds=rng.randrange(31_536_000)),
                        now,
                        f'{{"uri": "bench-{n}", "langs": ["es"]}}',
                        "",
                        "",
                        rng.choice(sentiments),
                        0,
                        0,
                        0,
                    )
                )
        timings["timeline_copy_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for indexdef, _ in timeline_indexes:
            cursor.execute(indexdef)
        timings["timeline_indexes_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute(
            "UPDATE contacts_contact SET search_document ="
            " contacts_document(id, display_name, email, company)"
        )
        timings["search_documents_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # What the insert trigger does page by page during sync, here in one pass.
        cursor.execute(
            "UPDATE contacts_contact c SET timeline_document = n.doc"
            " FROM (SELECT contact_id, strip(contacts_text_vector(string_agg(text, ' '))) AS doc"
            "       FROM crm_timelineentry WHERE text <> '' GROUP BY contact_id) n"
            " WHERE c.id = n.contact_id"
        )
        timings["timeline_documents_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t0
    timings["load_total_s"] = time.perf_counter() - started
    return {"sales": sales, "busy_id": busy_id, "first_id": first_id, "last_id": last_id, **timings}


# --- measuring --------------------------------------------------------------------------


def _time(client, url: str, *, runs: int = RUNS, **headers) -> tuple[float, float]:
    for _ in range(3):
        assert client.get(url, **headers).status_code == 200, url
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url, **headers)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def _sql_of(client, url: str, marker: str, **headers) -> list[str]:
    """The SQL (with the settings it ran under) of the request's queries on a table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    statements, setting = [], ""
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("SET enable_"):
            setting = sql + ";"
        elif sql.startswith("RESET"):
            setting = ""
        elif marker in sql:
            statements.append(setting + f"EXPLAIN (ANALYZE) {sql}")
    return statements


def _psql_ms(statements: list[str], runs: int = 5) -> float:
    """Median over ``runs`` of the summed "Execution Time" of ``EXPLAIN ANALYZE`` of
    each statement, run by the psql client."""
    totals = []
    for _ in range(runs):
        total = 0.0
        for sql in statements:
            out = subprocess.run(
                ["psql", os.environ["DATABASE_URL"], "-X", "-A", "-t", "-c", sql],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            line = next(line for line in out.splitlines() if line.startswith("Execution Time"))
            total += float(line.split(":")[1].split()[0])
        totals.append(total)
    return statistics.median(totals)


def measure(data: dict) -> list[tuple[str, float, float, float | None]]:
    from django.conf import settings
    from django.test import Client

    from contacts.models import TimelineEntry
    from core.paging import encode_cursor

    settings.DEBUG = False  # no query logging while timing
    settings.ALLOWED_HOSTS = ["testserver"]
    client = Client()
    client.force_login(data["sales"])
    busy = data["busy_id"]
    typical = (
        TimelineEntry.objects.exclude(contact_id=busy)
        .values_list("contact_id", flat=True)
        .order_by("contact_id")[4242 % max(1, CONTACTS - 1)]
    )
    deep = (
        TimelineEntry.objects.filter(contact_id=busy)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "id")[DEEP_PAGE * PAGE - PAGE - 1]
    )
    cursor = encode_cursor([deep[0].isoformat(), deep[1]])
    htmx = {"HTTP_HX_REQUEST": "true"}
    rows = []

    def add(label, url, marker=None, headers=None):
        headers = headers or {}
        median, p95 = _time(client, url, **headers)
        sql_ms = _psql_ms(_sql_of(client, url, marker, **headers)) if marker else None
        rows.append((label, median, p95, sql_ms))
        print(
            f"  {label}: median {median:.1f} ms, p95 {p95:.1f} ms"
            + (f", SQL {sql_ms:.2f} ms" if sql_ms is not None else ""),
            flush=True,
        )

    tl = 'FROM "crm_timelineentry"'
    add("contact page, typical contact (~10 entries)", f"/contacts/{typical}/", tl)
    add(f"contact page, busy contact ({BUSY:,} entries), first page", f"/contacts/{busy}/", tl)
    add(
        f"contact page, busy contact, page {DEEP_PAGE} (HTMX scroll)",
        f"/contacts/{busy}/?cursor={cursor}",
        tl,
        htmx,
    )
    add("timeline API, typical contact", f"/api/v1/contacts/{typical}/timeline/", tl)
    add("timeline API, busy contact, first page", f"/api/v1/contacts/{busy}/timeline/", tl)
    add(
        f"timeline API, busy contact, page {DEEP_PAGE}",
        f"/api/v1/contacts/{busy}/timeline/?cursor={cursor}",
        tl,
    )
    offset_sql = (
        f"SELECT * FROM crm_timelineentry WHERE contact_id = {int(busy)}"
        f" ORDER BY occurred_at DESC, id DESC LIMIT {PAGE} OFFSET {DEEP_PAGE * PAGE - PAGE}"
    )
    offset_ms = _psql_ms([f"EXPLAIN (ANALYZE) {offset_sql}"])
    rows.append(
        (f"(same page {DEEP_PAGE} with OFFSET, SQL only)", float("nan"), float("nan"), offset_ms)
    )
    print(f"  OFFSET page {DEEP_PAGE}: SQL {rows[-1][3]:.2f} ms", flush=True)
    contact = 'FROM "contacts_contact"'
    add("contact list, first page (last interaction)", "/contacts/", contact)
    add('contact list, search a name ("garcía")', "/contacts/?search=garc%C3%ADa", contact)
    add('contact list, search a handle ("@user4242")', "/contacts/?search=%40user4242", contact)
    add(
        'contact list, search a word they wrote, rare ("zumbido")',
        "/contacts/?search=zumbido",
        contact,
    )
    add(
        'contact list, search a word they wrote, common ("router")',
        "/contacts/?search=router",
        contact,
    )
    add('contacts API, search "zumbido"', "/api/v1/contacts/?search=zumbido", contact)
    add("pipeline board (3 columns x 20 cards)", "/contacts/pipeline/", contact)
    return rows


def run() -> None:
    import django

    name = os.environ["BENCH_DB"]
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        django.setup()
        from django.core.management import call_command
        from django.db import connection

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrate: {time.perf_counter() - t0:.1f} s", flush=True)
        data = load(random.Random(42))
        for key, value in data.items():
            if key.endswith("_s"):
                print(f"  {key}: {value:.1f} s", flush=True)
        rows = measure(data)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('crm_timelineentry')),"
                " pg_size_pretty(pg_total_relation_size('contacts_contact')),"
                " pg_size_pretty(pg_relation_size('contact_timeline_search'))"
            )
            sizes = cursor.fetchone()
        print()
        print(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {_memory()}; {version}; Python {platform.python_version()}"
        )
        print(
            f"Data: {CONTACTS:,} contacts, {ENTRIES:,} timeline entries (busiest contact"
            f" {BUSY:,}); timeline table {sizes[0]}; contacts table {sizes[1]}, of which the"
            f" timeline-words GIN index {sizes[2]}"
        )
        print()
        print("| what | median (ms) | p95 (ms) | same SQL in psql, EXPLAIN ANALYZE (ms) |")
        print("| --- | ---: | ---: | ---: |")
        for label, median, p95, sql_ms in rows:
            cells = ["—" if v != v else f"{v:.1f}" for v in (median, p95)]
            print(
                f"| {label} | {cells[0]} | {cells[1]} | {'—' if sql_ms is None else f'{sql_ms:.2f}'} |"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')


def _memory() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 1024 / 1024:.0f} GB RAM"
    except OSError:
        return "RAM unknown"


if __name__ == "__main__":
    main()
