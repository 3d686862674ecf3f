"""Tests for lib.classify (pure Python, no Django)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from lib.classify import Classification, classify, topic_keywords
from lib.classify.core import _classify, rules_only
from lib.classify.evaluate import evaluate, load

DATA = Path(__file__).resolve().parents[1] / "data"

# --- accuracy of the rule layer --------------------------------------------
# The rule layer alone (``rules_only``: cues and lexicons, what classify() was
# before the learned model; the model now uses it as features).
# Measured on the holdout set (104 rows, not used while writing the rules):
#   language 100.0%   intent 96.2% (en 98.1%, es 94.2%)   sentiment 92.3%
# Floors sit a few points below so small lexicon edits don't flap the suite.
HOLDOUT_FLOORS = {"language": 0.97, "intent": 0.90, "sentiment": 0.87}
HOLDOUT_LANG_FLOORS = {"intent": 0.86, "sentiment": 0.85}
# Measured on dev (161 rows): language 100.0%, intent 97.5%, sentiment 95.0%.
DEV_FLOORS = {"language": 0.97, "intent": 0.92, "sentiment": 0.90}


def test_holdout_accuracy() -> None:
    report = evaluate(load(DATA / "classification_holdout.csv"), predict=rules_only)
    assert report.rows >= 96
    for field, floor in HOLDOUT_FLOORS.items():
        assert report.accuracy("all", field) >= floor, field
    for lang in ("en", "es"):
        for field, floor in HOLDOUT_LANG_FLOORS.items():
            assert report.accuracy(lang, field) >= floor, (lang, field)


def test_dev_accuracy() -> None:
    report = evaluate(load(DATA / "classification_dev.csv"), predict=rules_only)
    for field, floor in DEV_FLOORS.items():
        assert report.accuracy("all", field) >= floor, field


def test_dataset_shape() -> None:
    rows = load(DATA / "classification.csv")
    assert len(rows) >= 240
    dev = load(DATA / "classification_dev.csv")
    holdout = load(DATA / "classification_holdout.csv")
    assert len(dev) + len(holdout) == len(rows)
    assert {r["text"] for r in dev}.isdisjoint({r["text"] for r in holdout})
    langs = [r["language"] for r in rows]
    assert abs(langs.count("en") - langs.count("es")) <= 10
    for intent in ("complaint", "question", "praise", "other"):
        assert sum(r["intent"] == intent for r in rows) >= 55


# --- public API -----------------------------------------------------------


def test_api_example() -> None:
    c = classify("My order never arrived and nobody answers!!")
    assert isinstance(c, Classification)
    assert c.language == "en"
    assert c.intent == "complaint"
    assert c.sentiment == "negative"
    assert -1.0 <= c.score < 0


@pytest.mark.parametrize(
    ("text", "language", "intent"),
    [
        ("¿Cómo cambio la dirección de entrega de mi pedido?", "es", "question"),
        ("how do i reset my pin on the app", "en", "question"),
        ("mil gracias @momento, me lo solucionaron al toque 🙌", "es", "praise"),
        ("Thanks @momento, sorted in 5 minutes! 🙌", "en", "praise"),
        ("llevo 3 días sin internet y nadie contesta", "es", "complaint"),
        ("still waiting for my refund, 3 weeks now", "en", "complaint"),
        ("RT @news: Momento announces new stores", "en", "other"),
    ],
)
def test_examples(text: str, language: str, intent: str) -> None:
    c = classify(text)
    assert (c.language, c.intent) == (language, intent)


# --- hostile input ----------------------------------------------------------


class _BadStr:
    def __str__(self) -> str:
        raise ValueError("boom")


HOSTILE: list[object] = [
    "",
    "   ",
    None,
    42,
    b"\xff\xfe not utf-8",
    "\ud800",
    "lone \udc00 surrogates \ud83d here",
    "<script>alert('x')</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt; hola",
    "<a href='javascript:alert(1)'>click</a>" * 50,
    "<" * 5000,
    "\u202eRTL override\u202c \u200f\u200e mark",
    "\x00\x01\x02\x7f",
    "😡" * 3000,
    "🏳️‍🌈👨‍👩‍👧‍👦🇪🇸" * 100,
    "a" * 5000,
    "no funciona " * 500,
    "http://" + "x" * 6000,
    "@" * 5000,
    "#" * 5000,
    "¿" * 5000,
    "\u0301" * 1000,
    _BadStr(),
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_never_raises(value: object) -> None:
    c = classify(value)
    assert c.language in {"en", "es", ""}
    assert c.intent in {"complaint", "question", "praise", "other"}
    assert c.sentiment in {"positive", "neutral", "negative"}
    assert -1.0 <= c.score <= 1.0
    for lang in ("en", "es", "", "xx"):
        keywords = topic_keywords(value, lang)
        assert all(isinstance(k, str) and k for k in keywords)


@pytest.mark.parametrize("value", [v for v in HOSTILE if not isinstance(v, _BadStr)][:22])
def test_hostile_input_handled_without_safety_net(value: object) -> None:
    # classify() swallows internal errors; make sure we don't rely on that.
    _classify(value)


def test_random_unicode_fuzz() -> None:
    rng = random.Random(1234)
    for _ in range(200):
        text = "".join(
            chr(
                rng.choice(
                    [
                        rng.randint(0, 0x2FFF),
                        rng.randint(0xD800, 0xDFFF),
                        rng.randint(0x1F300, 0x1FAFF),
                    ]
                )
            )
            for _ in range(rng.randint(0, 200))
        )
        _classify(text)
        topic_keywords(text, "es")


def test_html_and_noise_are_ignored() -> None:
    c = classify("<p>Gracias <b>@momento</b>!! 😍</p><script>var x = 'terrible awful';</script>")
    assert (c.language, c.intent, c.sentiment) == ("es", "praise", "positive")
    assert topic_keywords(
        "<script>hack()</script> @momento https://t.co/x #InternetCaido", "es"
    ) == [
        "internet",
        "caid",
    ]


def test_long_post_is_fast() -> None:
    text = "My internet has been down all week and nobody answers. " * 92
    assert len(text) >= 5000
    start = time.perf_counter()
    c = classify(text)
    assert time.perf_counter() - start < 2.0
    assert c.intent == "complaint"


@pytest.mark.parametrize(
    "text",
    ["a." * 5000, "a-" * 5000, "a.b" * 3333, "@a." * 3333, ("x." * 60 + "com/ ") * 100],
    ids=["dots", "dashes", "labels", "mentions", "long-domains"],
)
def test_pathological_domains_do_not_backtrack(text: str) -> None:
    """10,000 characters of dotted labels: the bare-domain pattern once backtracked over
    every label from every position (8 s for "a." * 5000); bounded, it is linear."""
    start = time.perf_counter()
    c = classify(text)
    assert time.perf_counter() - start < 2.0
    assert c.intent in {"complaint", "question", "praise", "other"}


# --- emoji ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("emoji", "sentiment"),
    [("😡", "negative"), ("👎", "negative"), ("😍", "positive"), ("🙏", "positive")],
)
def test_lone_emoji_carry_sentiment(emoji: str, sentiment: str) -> None:
    c = classify(emoji)
    assert c.sentiment == sentiment
    assert c.language == ""


def test_emoji_shift_sentiment() -> None:
    neutral = classify("my parcel arrived today")
    happy = classify("my parcel arrived today 😍🙏")
    angry = classify("my parcel arrived today 😡👎")
    # Since the second round of issue 13 the model reads the bare post as a complaint,
    # marked unsure (a known limit, docs/classification.md): the emoji still shift it.
    assert neutral.uncertain
    assert angry.score <= neutral.score < happy.score
    assert happy.sentiment == "positive"
    assert angry.sentiment == "negative"
    # skin-tone and ZWJ variants are normalised to their base emoji
    assert classify("👍🏽").score == classify("👍").score > 0
    assert classify("🤦‍♀️").score < 0


# --- Spanish negation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("positive", "negated"),
    [
        ("el servicio es bueno", "el servicio no es bueno"),
        ("me gusta la app nueva", "no me gusta la app nueva"),
        ("la atención fue excelente", "la atención nunca es excelente"),
        ("el técnico fue muy amable", "el técnico no fue nada amable"),
    ],
)
def test_spanish_negation_flips_sentiment(positive: str, negated: str) -> None:
    pos, neg = classify(positive), classify(negated)
    assert pos.language == neg.language == "es"
    assert pos.sentiment == "positive"
    assert neg.sentiment == "negative"
    assert neg.score < 0 < pos.score


def test_spanish_negated_negative_is_not_negative() -> None:
    assert classify("envío rápido y cero problemas").sentiment == "positive"
    assert classify("la app es mala").sentiment == "negative"


def test_english_negation() -> None:
    assert classify("the new app is good").sentiment == "positive"
    assert classify("the new app is not good").sentiment == "negative"


# --- topic keywords -------------------------------------------------------------


def test_topic_keywords_normalised() -> None:
    kws = topic_keywords("Los PEDIDOS de @MomentoShop no llegan!! 😡 https://x.co/a", "es")
    assert kws == ["ped", "lleg"]
    assert all(k == k.lower() for k in kws)
    assert topic_keywords("Atención al cliente", "es") == topic_keywords(
        "atencion al cliente", "es"
    )


def test_topic_keywords_group_outage_variants_en() -> None:
    variants = [
        "internet down in Madrid",
        "no internet since morning",
        "@MomentoTel is the internet down?? nothing loads 😡",
        "Internet's been down all morning #MomentoFail",
    ]
    sets = [set(topic_keywords(v, "en")) for v in variants]
    assert set.intersection(*sets) == {"internet"}
    assert "madrid" in sets[0]
    assert "down" in sets[0] & sets[2] & sets[3]


def test_topic_keywords_group_outage_variants_es() -> None:
    variants = [
        "Sin internet en Madrid desde esta mañana",
        "se cayó el internet en madrid otra vez",
        "¿Hay caída de internet en Madrid? 😤",
    ]
    sets = [set(topic_keywords(v, "es")) for v in variants]
    assert {"internet", "madr"} <= set.intersection(*sets)
    assert "cai" in sets[2] or "caid" in sets[2]


def test_topic_keywords_plural_and_inflections_share_stems() -> None:
    assert topic_keywords("orders delayed", "en") == topic_keywords("order delays", "en")
    assert topic_keywords("facturas", "es") == topic_keywords("factura", "es")


def test_topic_keywords_unknown_language_folds_only() -> None:
    assert topic_keywords("Señal pésima", "") == ["senal", "pesima"]


# --- language fallback -------------------------------------------------------------


def test_language_fallback_without_lingua(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.classify import language

    monkeypatch.setattr(language, "_detector", None)
    monkeypatch.setattr(language, "_lingua_missing", True)
    assert not language.lingua_available()
    assert classify("my order never arrived and nobody answers").language == "en"
    assert classify("mi pedido nunca llegó y nadie contesta").language == "es"
    assert classify("👍").language == ""


def test_lingua_is_used_when_installed() -> None:
    from lib.classify import language

    assert language.lingua_available()
    assert language.detect_language("Se cayó el internet en Madrid otra vez") == "es"
    assert language.detect_language("Internet down again in Leeds") == "en"


# --- handles with their domain ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@momentofibra.bsky.social my fibre is down",
        "@ana@mastodon.social mi fibra no va",
        "Hey @momentofibra.bsky.social, fibre down",
    ],
)
def test_a_handles_domain_is_part_of_the_handle_not_a_topic(text: str) -> None:
    """Bluesky's and Mastodon's handles carry a domain: its labels ("bsky", "social",
    "mastodon") are no words of the complaint, so two complaints to the same brand
    share no key through them (they would make one incident of unrelated complaints)."""
    from lib.classify import shared_keys, topic_keys
    from lib.classify.text import prepare

    keys = topic_keys(text, "en")
    assert "internet" in keys
    assert not {"bsky", "social", "mastodon", "momentofibra", "ana"} & set(keys)
    assert len(prepare(text).handles) == 1
    other = topic_keys("@momentofibra.bsky.social @ana@mastodon.social hello there", "en")
    assert shared_keys(keys, other) == 0


def test_a_sentence_after_a_mention_is_kept() -> None:
    from lib.classify import topic_keys

    assert topic_keys("thanks @brand. The bill is wrong", "en")[:1] == ["bill"]
    assert "bill" in topic_keys("@brand.The bill is wrong", "en")
