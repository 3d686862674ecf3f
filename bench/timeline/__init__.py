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
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from .dataset import load
from .measure import measure
from .params import BUSY, CONTACTS, ENTRIES


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


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["BENCH_ADMIN_URL"], autocommit=True) as conn:
        conn.execute(sql)


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
