"""The learned model: its figures on the frozen blind set, a retrain that reproduces
the shipped artefact, confidence, and the fallback when the artefact is missing."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from lib.classify import classify, model
from lib.classify.metrics import measure, wilson
from lib.classify.training import EVALUATION, load_rows, summary

DATA = Path(__file__).resolve().parents[1] / "data"
BLIND_SHA256 = "807018f4e0d07dfee0575f7bb64b07f5334453cd4d11e8bd9205d1eeb952b96f"

# Measured on the blind set (433 posts written apart from the code, frozen before
# training; see docs/classification.md). The aim of issue 13 is intent and sentiment
# >= 0.90 per language, language >= 0.99 and complaint recall >= 0.95: reached by the
# fifth round's model (intent 0.934 en / 0.929 es, sentiment 0.915 / 0.919, language
# 0.991, complaint recall 0.954); these are its figures, asserted so that they cannot
# silently drop. Its corpus (six more Spanish writers: twenty-nine) and settings were
# chosen by cross-writer validation, not by a blind figure.
BLIND_FLOORS = {
    "language:all": 0.99,
    "intent:all": 0.93,
    "sentiment:all": 0.91,
    "intent:en": 0.93,
    "intent:es": 0.92,
    "sentiment:en": 0.91,
    "sentiment:es": 0.91,
    "complaint_recall": 0.95,
}


def test_blind_set_is_the_frozen_one() -> None:
    digest = hashlib.sha256((DATA / "classification_blind.csv").read_bytes()).hexdigest()
    assert digest == BLIND_SHA256
    rows = load_rows([DATA / "classification_blind.csv"])
    assert len(rows) == 433


def test_blind_set_figures() -> None:
    metrics = measure(load_rows([EVALUATION["blind"]]), classify, "blind")
    figures = summary(metrics)
    for key, floor in BLIND_FLOORS.items():
        assert figures[key] >= floor, (key, figures[key])
    # and they are the figures the artefact says it was shipped with
    shipped = json.loads(model.MODEL_PATH.read_text(encoding="utf-8"))["meta"]["evaluation"]
    assert figures == shipped["blind"]


def test_blind_beats_the_rule_layer_it_replaced() -> None:
    from lib.classify.core import rules_only

    rows = load_rows([EVALUATION["blind"]])
    before = summary(measure(rows, rules_only, "rules"))
    after = summary(measure(rows, classify, "model"))
    for key in ("intent:en", "intent:es", "sentiment:en", "sentiment:es", "complaint_recall"):
        assert after[key] > before[key], key


def test_the_training_command_reproduces_the_shipped_model(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("classify_train", output=str(tmp_path / "model.json"), stdout=out)
    text = (tmp_path / "model.json").read_text(encoding="utf-8")
    assert text == model.MODEL_PATH.read_text(encoding="utf-8")  # bit for bit
    shipped = json.loads(text)["meta"]["evaluation"]["blind"]
    printed = out.getvalue()
    assert "### blind (433 rows)" in printed
    # The printed row "| all (433) | language [..] | intent [..] | sentiment [..] |" says
    # what the artefact stores (stored to 4 decimals, printed to 3).
    row = printed.split("### blind (433 rows)")[1].split("| all (433) |")[1].split("\n")[0]
    figures = [float(cell.split("[")[0]) for cell in row.split("|")[:3]]
    stored = [shipped[f"{name}:all"] for name in ("language", "intent", "sentiment")]
    assert all(abs(a - b) < 0.0006 for a, b in zip(figures, stored, strict=True)), row
    assert model.get_model() is not None  # the process' model is the shipped one again


def test_artefact_is_small_and_loaded_once() -> None:
    assert model.MODEL_PATH.stat().st_size < 8_000_000
    model.reset_model()
    first = model.get_model()
    assert first is not None and model.get_model() is first
    assert len(first.weights) > 1000


def test_confidence_and_uncertain_flag() -> None:
    sure = classify("@VeloxMobile my order never arrived and nobody answers!! 😡")
    assert sure.intent == "complaint" and sure.sentiment == "negative"
    assert 0.8 <= sure.confidence <= 1.0 and not sure.uncertain
    # two words with nothing to go on: a guess, and it says so
    vague = classify("the app")
    assert 0.0 <= vague.confidence < 0.8 and vague.uncertain


def _one_feature_model(sentiment_weights: list[float], **settings: float) -> model.Model:
    """A model whose only weights are the bias feature's: complaint over the other intents,
    and the given sentiment logits (negative, neutral, positive)."""
    return model.Model(
        {
            "format": model.FORMAT,
            "intents": list(model.INTENTS),
            "sentiments": list(model.SENTIMENTS),
            "meta": {"settings": {"digits": 4, **settings}},
            "weights": {"bias": [2.0, 0.0, 0.0, 0.0, *sentiment_weights]},
        }
    )


def test_a_complaints_negative_sentiment_is_favoured_not_forced() -> None:
    from lib.classify.core import decide_with
    from lib.classify.model import RuleView
    from lib.classify.text import prepare

    view = RuleView("other", 0.0, {}, sarcastic=False, resolved=False, directed=False)
    prepared = prepare("the parcel came on tuesday")

    def decide(weights: list[float], **settings: float):
        return decide_with(_one_feature_model(weights, **settings), prepared, "en", view)

    # Without ``tie`` (artefacts before it), a complaint is negative whatever the head says.
    forced = decide([0.0, 3.0, 0.0])
    assert (forced.intent, forced.sentiment) == ("complaint", "negative")
    # With it, a head that is sure the post is neutral (0.91 against 0.05) overrules the
    # intent's own label, and the result says it is unsure ...
    overruled = decide([0.0, 3.0, 0.0], tie=2.0)
    assert (overruled.intent, overruled.sentiment) == ("complaint", "neutral")
    assert overruled.uncertain and overruled.score == 0.0
    # ... while a head that only leans neutral (0.58 against 0.21) does not.
    kept = decide([0.0, 1.0, 0.0], tie=2.0)
    assert (kept.intent, kept.sentiment) == ("complaint", "negative")
    assert kept.confidence == forced.confidence


def test_without_the_artefact_the_rules_answer_and_say_they_are_unsure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(model, "MODEL_PATH", tmp_path / "missing.json")
    model.reset_model()
    try:
        c = classify("My order never arrived and nobody answers!!")
        assert (c.intent, c.sentiment) == ("complaint", "negative")
        assert c.uncertain
    finally:
        monkeypatch.undo()
        model.reset_model()


def test_a_broken_artefact_does_not_raise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "model.json"
    bad.write_text('{"format": 1, "intents": ["complaint"]', encoding="utf-8")
    monkeypatch.setattr(model, "MODEL_PATH", bad)
    model.reset_model()
    try:
        assert classify("still waiting for my refund").intent in {
            "complaint",
            "question",
            "praise",
            "other",
        }
    finally:
        monkeypatch.undo()
        model.reset_model()


def test_wilson_interval() -> None:
    low, high = wilson(81, 100)
    assert 0.72 < low < 0.73 and 0.87 < high < 0.88
    assert wilson(0, 0) != wilson(0, 0)  # nan: no rows, no interval


def test_packed_sums_equal_the_column_sums() -> None:
    """``predict_parts`` sums each feature's weights packed in one integer; on posts of
    the corpus, and with the largest negative and positive weights the artefact holds,
    it gives exactly what the per-label column sums give."""
    from lib.classify.core import analyse
    from lib.classify.language import detect_language
    from lib.classify.text import prepare
    from lib.classify.training import CORPUS

    shipped = model.get_model()
    assert shipped is not None
    texts = [r["text"] for r in load_rows(CORPUS[:1])[:300]]
    texts += ["", "🙂", "x" * 5000, "ok ok ok ok ok ok ok ok ok ok"]
    for text in texts:
        prepared = prepare(text)
        language = detect_language(prepared.text)
        view, _score = analyse(prepared, language)
        named, grams = model.feature_parts(prepared, language, view, shipped.shape)
        unpacked = shipped.predict([*named, *(f"c:{g}" for g in grams)])
        assert shipped.predict_parts(named, grams) == unpacked, text[:40]
    extreme = [-(2**31) + 1, 2**31 - 1, 0, -5, 7, -(2**30), 2**30]
    total = sum([model._pack(extreme)] * 1000)
    assert model._unpack(total, 1000, 7) == tuple(v * 1000 for v in extreme)


def test_the_joint_decision_lets_sentiment_tip_the_intent() -> None:
    """With ``joint`` set, an intent whose own sentiment the sentiment head rejects loses
    to one whose sentiment it backs: a near tie of complaint and praise in a clearly
    positive post is praise (without ``joint``, the intent head alone says complaint)."""
    from lib.classify.core import classify_with

    def artefact(joint: float) -> model.Model:
        return model.Model(
            {
                "format": model.FORMAT,
                "intents": list(model.INTENTS),
                "sentiments": list(model.SENTIMENTS),
                "meta": {"settings": {"digits": 4, "joint": joint}},
                # complaint, question, praise, other | negative, neutral, positive
                "weights": {"bias": [1.0, -5.0, 0.9, -5.0, -3.0, 0.0, 3.0]},
            }
        )

    alone = classify_with(artefact(0.0), "the parcel came today")
    joint = classify_with(artefact(1.0), "the parcel came today")
    assert (alone.intent, alone.sentiment) == ("complaint", "negative")
    assert (joint.intent, joint.sentiment) == ("praise", "positive")
