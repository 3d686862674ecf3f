"""bench/workspace: the inbox thread, the HTML contacts list and the API lists served by
gunicorn (2 sync workers, ``DEBUG=0``) to 8 concurrent clients, each beside two floors
measured in the same run: a bare DRF list of the same 50 contacts through the same
authentication and a bare Django view.

    python -m bench workspace

Data: bench/timeline's loader (``BENCH_CONTACTS``, default 20,000 here, and
``BENCH_ENTRIES``, default 200,000), plus one brand account with 500 waiting
conversations, one thread of 60 items and the busy contact's (its pane shows the newest
200 of 60,000 entries). Each URL is warmed, then hammered for
``BENCH_SECONDS`` (5) by 8 client threads on keep-alive connections; the figures are
requests/s, client p50/p99 and the server time inside Django (the ``Server-Timing``
header of bench/workspace/timing.py) at the median. The client runs on the same 2 cores
as the server, so req/s are a floor; the ratios to the bare lists are what to read.
On a machine shared with other work, ``BENCH_ROUNDS=3`` measures every URL in three
interleaved rounds and keeps each URL's best (its least disturbed window).
"""

from __future__ import annotations

import base64
import http.client
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit, urlunsplit

PORT = int(os.environ.get("BENCH_PORT", "8765"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
#: Rounds over every URL, interleaved; each URL keeps its best round (see the docstring).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
CLIENTS = 8


def main() -> None:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/momento")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/workspace needs PostgreSQL (DATABASE_URL=postgres://...)")
    name = (parts.path.lstrip("/") or "momento") + "_bench_workspace"
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
        "BENCH_ADMIN_URL": urlunsplit(parts._replace(path="/postgres")),
        "BENCH_DB": name,
        "BENCH_CONTACTS": os.environ.get("BENCH_CONTACTS", "20000"),
        "BENCH_ENTRIES": os.environ.get("BENCH_ENTRIES", "200000"),
        "DJANGO_SETTINGS_MODULE": "bench.workspace.settings",
        "CELERY_BROKER_URL": "memory://",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "600",
        # The bench measures the server, not the throttle (see docs/benchmarks.md).
        "API_THROTTLE_USER": "100000000/min",
        "SECURE_SSL_REDIRECT": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "BENCH_STATIC_ROOT": tempfile.mkdtemp(prefix="momento-bench-static-"),
    }
    try:
        subprocess.run(
            [sys.executable, "-c", "from bench.workspace import run; run()"], env=env, check=True
        )
    finally:
        shutil.rmtree(env["BENCH_STATIC_ROOT"], ignore_errors=True)


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["BENCH_ADMIN_URL"], autocommit=True) as conn:
        conn.execute(sql)


def _conversations(rng: random.Random) -> dict:
    """A brand account, 500 waiting conversations, one 60-item thread, and the busy
    contact's (bench/timeline's 60,000 entries) conversation, whose pane shows the
    newest 200 items (``THREAD_LIMIT``)."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from contacts.models import Contact, SocialIdentity, TimelineEntry
    from crm.models import SocialAccount

    agent = User.objects.create_user("bench-support", password="x")
    agent.groups.add(Group.objects.get(name="Support"))
    account = SocialAccount.objects.create(
        network="mastodon", handle="brand", base_url="http://127.0.0.1:9"
    )
    contacts = list(Contact.objects.order_by("id")[:500])
    now = timezone.now()
    identities = SocialIdentity.objects.bulk_create(
        SocialIdentity(contact=c, network="mastodon", handle=f"bench{c.pk}", external_id=f"b{c.pk}")
        for c in contacts
    )
    entries = []
    for i, (contact, identity) in enumerate(zip(contacts, identities, strict=True)):
        count = 60 if i == 1 else rng.randint(1, 4)
        for j in range(count):
            entries.append(
                TimelineEntry(
                    contact=contact,
                    identity=identity,
                    account=account,
                    network="mastodon",
                    kind="dm" if j % 3 == 2 else "mention",
                    direction="in" if j % 2 == 0 or j == count - 1 else "out",
                    external_id=f"bench-{contact.pk}-{j}",
                    text=f"Message {j}: the router blinks red again, what now?",
                    occurred_at=now - timezone.timedelta(minutes=(count - j) + i),
                )
            )
    TimelineEntry.objects.bulk_create(entries, batch_size=2000)
    return {"agent": agent, "thread_contact": contacts[1].pk, "busy_contact": contacts[0].pk}


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _hammer(path: str, headers: dict) -> dict:
    """8 clients for ``SECONDS``: req/s, client p50/p99 (ms), server median (ms)."""
    latencies: list[float] = []
    server: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + SECONDS

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine, theirs, bad = [], [], []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                bad.append(response.status)
            timing = response.getheader("Server-Timing", "")
            if "dur=" in timing:
                theirs.append(float(timing.split("dur=")[1]))
        conn.close()
        with lock:
            latencies.extend(mine)
            server.extend(theirs)
            errors.extend(bad)

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "server": statistics.median(server) if server else float("nan"),
        "errors": len(errors),
        "status": sorted(set(errors)),
    }


def _alone(path: str, headers: dict, runs: int = 30) -> float:
    """The server time inside Django at the median, one request at a time."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    times = []
    for _ in range(runs):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append(float(response.getheader("Server-Timing", "dur=nan").split("dur=")[1]))
    conn.close()
    return statistics.median(times)


def _serve() -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        env=os.environ.copy(),
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def run() -> None:
    import django

    name = os.environ["BENCH_DB"]
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(f'CREATE DATABASE "{name}"')
    server = None
    try:
        django.setup()
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        from bench.timeline.dataset import load

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        data = load(random.Random(42))
        conv = _conversations(random.Random(7))
        sales = data["sales"]
        support = conv["agent"]
        token = Token.objects.create(user=sales).key
        from django.db import connections

        connections.close_all()
        server = _serve()
        as_sales = {"Cookie": _session_cookie(sales)}
        as_support = {"Cookie": _session_cookie(support)}
        api = {"Authorization": f"Token {token}"}
        thread = f"/conversations/{conv['thread_contact']}/mastodon/"
        targets = [
            ("bare Django view, 50 contacts (floor)", "/bench/bare/", as_sales),
            ("bare DRF list, 50 contacts, token (floor)", "/bench/bare-drf/", api),
            ("API contacts list (50)", "/api/v1/contacts/", api),
            ("API interactions list (50)", "/api/v1/interactions/", api),
            ("API tasks list", "/api/v1/tasks/", api),
            ("HTML contacts list (50)", "/contacts/", as_sales),
            ("inbox list (50 conversations)", "/conversations/", as_support),
            (
                "inbox thread (60 items, HTMX pane)",
                thread,
                {**as_support, "HX-Request": "true", "HX-Target": "thread"},
            ),
            (
                "inbox thread (busy contact: 200 items, HTMX pane)",
                f"/conversations/{conv['busy_contact']}/mastodon/",
                {**as_support, "HX-Request": "true", "HX-Target": "thread"},
            ),
        ]
        rows = []
        for label, path, headers in targets:
            for _ in range(10):  # warm both workers
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                conn.request("GET", path, headers=headers)
                conn.getresponse().read()
                conn.close()
            result = _hammer(path, headers)
            result["alone"] = _alone(path, headers)
            rows.append((label, path, result))
        for _ in range(ROUNDS - 1):
            for (_, path, headers), (_, _, kept) in zip(targets, rows, strict=True):
                again = _hammer(path, headers)
                again["alone"] = _alone(path, headers)
                alone = min(kept["alone"], again["alone"])
                errors = kept["errors"] + again["errors"]
                status = sorted(set(kept["status"]) | set(again["status"]))
                if again["rps"] > kept["rps"]:
                    kept.update(again)
                kept.update(alone=alone, errors=errors, status=status)
        drf = rows[1][2]["rps"]
        print()
        print(
            f"{os.environ['BENCH_CONTACTS']} contacts, {os.environ['BENCH_ENTRIES']} entries;"
            f" gunicorn 2 sync workers, DEBUG=0, {CLIENTS} clients, {SECONDS:.0f} s each,"
            f"{f' best of {ROUNDS} interleaved rounds,' if ROUNDS > 1 else ''}"
            f" {os.cpu_count()} CPUs shared by client and server"
        )
        print()
        print(
            "| what | req/s | vs bare DRF | p50 (ms) | p99 (ms) | server median, 8 clients"
            " (ms) | server median, 1 client (ms) | errors |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, path, r in rows:
            print(
                f"| {label} `{path.split('?')[0]}` | {r['rps']:.0f} | {r['rps'] / drf:.2f} |"
                f" {r['p50']:.1f} | {r['p99']:.1f} | {r['server']:.1f} | {r['alone']:.1f} |"
                f" {r['errors']}{' ' + str(r['status']) if r['status'] else ''} |"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
