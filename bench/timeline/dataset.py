"""bench/timeline's data: contacts, identities and timeline entries COPYed straight
into the tables (indexes dropped first and built afterwards, as a restore would), then
the search documents the triggers would have written, in one pass each."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from .params import BUSY, CONTACTS, ENTRIES

#: The syllables of made-up words (one string reads better than fifty lines).
SYLLABLES = (  # noqa: SIM905
    "ba be bi bo bu ca ce co da de di do fa fe fi fo ga go la le li lo ma me mi"
    " mo na ne ni no pa pe po ra re ri ro sa se si so ta te ti to va ve vi za zo"
).split()


def _vocabulary(rng: random.Random, n: int = 5000) -> list[str]:
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def _sentences() -> list[str]:
    from demo import data as demo

    out = []
    for lang in demo.TEXTS.values():
        for texts in lang.values():
            out += [t.format(brand="momentofibra") for t in texts]
    return out


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
