"""bench/timeline's measurements: each page through Django's test client (median and
p95 of ``RUNS``), and the same SQL's ``EXPLAIN ANALYZE`` time from ``psql``."""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from .params import BUSY, CONTACTS, DEEP_PAGE, PAGE, RUNS


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
