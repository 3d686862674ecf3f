"""Retrain the model from the labelled corpus and evaluate it.

The corpus is ``corpus/train_en.csv``, ``corpus/train_es.csv`` and the blind
writers' ``corpus/hand_*.csv`` (see ``corpus/README.md``) plus the development set
``tests/data/classification_dev.csv`` and any exported agent corrections. ``tests/data/classification_holdout.csv``
and the frozen blind set ``tests/data/classification_blind.csv`` are never
trained on: they are only evaluated.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from .core import analyse, classify_with
from .language import detect_language
from .metrics import FIELDS, Metrics, measure
from .model import (
    DEFAULTS,
    INTENTS,
    MODEL_PATH,
    SENTIMENTS,
    Model,
    dumps,
    features,
    reset_model,
    train,
)
from .text import prepare

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "lib" / "classify" / "corpus"
#: The blind writers' hand-written posts (see corpus/README.md), one file per writer.
HAND = tuple(sorted(CORPUS_DIR.glob("hand_*.csv")))
CORPUS = (
    CORPUS_DIR / "train_en.csv",
    CORPUS_DIR / "train_es.csv",
    *HAND,
    ROOT / "tests" / "data" / "classification_dev.csv",
)
EVALUATION = {
    "holdout": ROOT / "tests" / "data" / "classification_holdout.csv",
    "blind": ROOT / "tests" / "data" / "classification_blind.csv",
}


def load_rows(paths: Iterable[Path | str]) -> list[dict[str, str]]:
    """The rows of CSV files; each row also says which file it came from (``source``)."""
    rows: list[dict[str, str]] = []
    for path in paths:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows.extend({**row, "source": Path(path).stem} for row in csv.DictReader(fh))
    return rows


def shape_of(settings: dict) -> tuple[int, int, int]:
    opts = {**DEFAULTS, **settings}
    return (int(opts["word_n"]), int(opts["char_lo"]), int(opts["char_hi"]))


def sample(text: str, shape: tuple[int, int, int] = (2, 3, 4)) -> list[str]:
    prepared = prepare(text)
    language = detect_language(prepared.text)
    view, _score = analyse(prepared, language)
    return features(prepared, language, view, shape)


def source_weight(source: str, settings: dict) -> float:
    """A row's training weight: ``weight_<file stem>`` in the settings, else 1."""
    return float({**DEFAULTS, **settings}.get(f"weight_{source}", 1.0))


def samples_from(
    rows: Sequence[dict[str, str]], settings: dict | None = None
) -> list[tuple[list[str], str, str, float]]:
    """(features, intent, sentiment, weight) of each valid row; rows with unknown labels
    skipped."""
    settings = settings or {}
    shape = shape_of(settings)
    out = []
    for row in rows:
        intent, sentiment = row.get("intent", ""), row.get("sentiment", "")
        if intent in INTENTS and sentiment in SENTIMENTS and row.get("text"):
            weight = source_weight(row.get("source", ""), settings)
            out.append((sample(row["text"], shape), intent, sentiment, weight))
    return out


def train_from(paths: Iterable[Path | str] = CORPUS, **settings: float) -> dict:
    return train(samples_from(load_rows(paths), settings), **settings)


def evaluate_model(model: Model) -> dict[str, Metrics]:
    """The model's figures on the holdout and the blind set."""
    return {
        name: measure(load_rows([path]), lambda text: classify_with(model, text), name)
        for name, path in EVALUATION.items()
    }


def summary(metrics: Metrics) -> dict[str, float]:
    """The headline figures the aim is stated in (rounded, for comparison)."""
    out = {f"{f}:all": round(metrics.acc("all", f), 4) for f in FIELDS}
    for lang in ("en", "es"):
        for f in FIELDS:
            out[f"{f}:{lang}"] = round(metrics.acc(lang, f), 4)
    out["complaint_recall"] = round(metrics.recall("intent", "complaint"), 4)
    return out


def retrain(
    *, paths: Sequence[Path | str] = CORPUS, output: Path | None = MODEL_PATH, **settings: float
) -> tuple[str, dict[str, Metrics]]:
    """Train from ``paths``, write the artefact to ``output`` (None: don't write),
    and evaluate it. Returns the artefact's text and the evaluation."""
    artefact = train_from(paths, **settings)
    model = Model(artefact)
    metrics = evaluate_model(model)
    artefact["meta"]["corpus"] = [Path(p).name for p in paths]
    artefact["meta"]["evaluation"] = {name: summary(m) for name, m in metrics.items()}
    text = dumps(artefact)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        reset_model()
    return text, metrics
