"""The support report on realistic data: complaints in English, Spanish and hostile
text, mentioning the brand by its full Bluesky and Mastodon handles, over a fortnight.
Its complaint topics are the bilingual concepts in the reader's words (never stems,
place marks or pieces of handles), its networks are brand names, and its tickets by day
cover the period, as a chart and as a table."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from support.services import tickets_open_for_entries
from tests.factories import ContactFactory, SocialAccountFactory, complaint_entry

pytestmark = pytest.mark.django_db

COMPLAINTS = [
    # (days ago, network, language, text)
    (12, "bluesky", "en", "@momentofibra.bsky.social my fibre has been down since 8am in Leeds"),
    (12, "bluesky", "en", "@momentofibra.bsky.social third outage this week, the router is dead"),
    (9, "mastodon", "es", "@ana@mastodon.social me habéis cobrado dos veces la factura"),
    (9, "mastodon", "es", "@ana@mastodon.social sin internet desde ayer en Chamberí 😡"),
    (5, "x", "en", "@bruno_momento you charged me twice, I want a refund"),
    (
        2,
        "x",
        "es",
        "<script>alert('bsky')</script>\u202e\u200b la fibra no funciona \U0001f4a5 "
        "'; DROP TABLE tickets; -- @x.y.z",
    ),
    (0, "bluesky", "es", "@momentofibra.bsky.social #SinInternet el wifi va fatal"),
]


@pytest.fixture
def complaints():
    accounts = {
        "bluesky": SocialAccountFactory(network="bluesky", handle="momentofibra.bsky.social"),
        "mastodon": SocialAccountFactory(network="mastodon", handle="ana@mastodon.social"),
        "x": SocialAccountFactory(network="x", handle="bruno_momento", base_url=""),
    }
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    for days_ago, network, language, text in COMPLAINTS:
        with time_machine.travel(today - timedelta(days=days_ago), tick=False):
            entry = complaint_entry(
                contact=ContactFactory(stage=2, language=language),
                account=accounts[network],
                text=text,
                language=language,
            )
            tickets_open_for_entries(entries=[entry])
    return today


def _topics(html: str) -> list[str]:
    card = html.split('id="top-topics"')[1]
    return [
        re.sub(r"\s+", " ", item).strip()
        for item in re.findall(r"<li>(.*?)<span", card.split("</ol>")[0])
    ]


def test_topics_are_concepts_in_the_readers_words_and_networks_are_brands(
    client, manager, complaints
):
    client.force_login(manager)
    html = client.get("/support/reports/").content.decode()
    topics = _topics(html)
    # Most tickets first, ties in the concepts' order of name.
    assert topics == ["internet", "outage", "bill", "charged or sent twice", "refund"]
    counts = re.findall(r'<span class="muted">\((\d+)\)</span>', html.split('id="top-topics"')[1])
    assert counts[:5] == ["5", "3", "2", "2", "1"]
    for fragment in ("bsky", "social", "place:", "leeds", "chamberi", "script", "drop", "habeis"):
        assert all(fragment not in topic.lower() for topic in topics), fragment
    assert "<script>alert" not in html  # the hostile text is nowhere unescaped

    report = json.loads(re.search(r'id="support-report"[^>]*>(.*?)</script>', html, re.S)[1])
    assert {row["network_label"] for row in report["by_network"]} == {"Bluesky", "Mastodon", "X"}
    assert "<td>Bluesky</td>" in html and "<td>Mastodon</td>" in html and "<td>X</td>" in html
    assert {row["keyword"] for row in report["top_complaint_topics"]} == {
        "internet",
        "outage",
        "duplicate",
        "bill",
        "refund",
    }

    # In Spanish, the same topics in Spanish words.
    page = client.get("/support/reports/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert _topics(page) == [
        "internet",
        "caída del servicio",
        "factura",
        "cobro o envío duplicado",
        "reembolso",
    ]
    assert "Temas de queja principales" in page


def test_tickets_by_day_cover_the_period_as_a_chart_and_a_table(client, manager, complaints):
    client.force_login(manager)
    today = timezone.localdate(complaints)
    start = today - timedelta(days=13)
    html = client.get(
        f"/support/reports/?from={start.isoformat()}&to={today.isoformat()}"
    ).content.decode()
    report = json.loads(re.search(r'id="support-report"[^>]*>(.*?)</script>', html, re.S)[1])
    days = {row["day"]: row["tickets"] for row in report["by_day"]}
    assert len(days) == 14 and min(days) == start.isoformat() and max(days) == today.isoformat()
    assert sum(days.values()) == len(COMPLAINTS) == report["tickets"]
    assert days[(today - timedelta(days=12)).isoformat()] == 2
    assert days[(today - timedelta(days=11)).isoformat()] == 0  # a quiet day is a zero
    # The same, readable without the chart: each day with tickets, with its count.
    table = html.split('id="by-day-table"')[1].split("</table>")[0]
    rows = re.findall(r'<time datetime="([\d-]+)">[\d-]+</time></td><td>(\d+)</td>', table)
    assert rows == [(day, str(n)) for day, n in sorted(days.items()) if n]
    assert len(rows) == 5

    empty = client.get("/support/reports/?from=2020-01-01&to=2020-01-31").content.decode()
    assert "No tickets in this period." in empty.split('id="by-day-table"')[1]


def test_a_ticket_with_only_words_and_places_adds_no_topic(client, manager):
    """Content words and places group complaints into incidents; alone they are no
    topic (they would read as fragments)."""
    account = SocialAccountFactory(network="bluesky", handle="brand.bsky.social")
    entry = complaint_entry(
        contact=ContactFactory(stage=2),
        account=account,
        text="@brand.bsky.social Terrible experience in Valencia, disgusting",
    )
    [ticket] = tickets_open_for_entries(entries=[entry])
    assert ticket.keywords and not {"internet", "bill"} & set(ticket.keywords)
    client.force_login(manager)
    html = client.get("/support/reports/").content.decode()
    assert _topics(html) == []
    assert '<li class="muted">—</li>' in html.split('id="top-topics"')[1]


def test_every_concept_has_a_topic_name_in_both_languages():
    from django.utils.translation import override

    from lib.classify.concepts import CONCEPTS
    from support.selectors import TOPIC_LABELS

    assert set(TOPIC_LABELS) == set(CONCEPTS)
    with override("es"):
        spanish = {key: str(label) for key, label in TOPIC_LABELS.items()}
    with override("en"):
        english = {key: str(label) for key, label in TOPIC_LABELS.items()}
    untranslated = {key for key in TOPIC_LABELS if spanish[key] == english[key]}
    assert untranslated == {"internet"}  # the same word in Spanish
