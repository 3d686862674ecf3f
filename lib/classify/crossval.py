"""Cross-writer validation: the proxy used to choose the model's settings.

Usage::

    python -m lib.classify.crossval [--jobs N] [name=value ...]

Each fold holds out one writer's hand-written posts (``hand_wa`` ... ``hand_xc``:
twenty-nine writers, each briefed apart with only the label definitions; and the
development set, written by the rules' author), trains on every other row of the
corpus, and scores the held-out rows. The figures printed are pooled over the
folds. Settings given as ``name=value`` override :data:`lib.classify.model.DEFAULTS`
(e.g. ``complaint_bias=1.5 weight_train_en=0.5``). Neither the holdout set nor the
blind set is read. ``--jobs N`` trains N folds at a time, in worker processes (the
figures are the same: each fold's training is deterministic).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from .core import Classification, analyse, decide_with
from .language import detect_language
from .metrics import Metrics, measure
from .model import INTENTS, SENTIMENTS, Model, RuleView, features, train
from .text import Prepared, prepare
from .training import CORPUS, HAND, load_rows, shape_of, source_weight, summary

#: The held-out groups: each writer's file (by stem).
FOLDS = (*(path.stem for path in HAND), "classification_dev")


@dataclass
class Row:
    text: str
    language: str
    intent: str
    sentiment: str
    source: str
    prepared: Prepared
    detected: str
    view: RuleView
    score: float


def load(paths: Sequence = CORPUS) -> list[Row]:
    """The corpus rows with the expensive part (language, rule layer) done once."""
    out = []
    for row in load_rows(paths):
        if row.get("intent") not in INTENTS or row.get("sentiment") not in SENTIMENTS:
            continue
        prepared = prepare(row["text"])
        detected = detect_language(prepared.text)
        view, score = analyse(prepared, detected)
        out.append(
            Row(
                row["text"],
                row["language"],
                row["intent"],
                row["sentiment"],
                row["source"],
                prepared,
                detected,
                view,
                score,
            )
        )
    return out


#: What a fold worker reads: set in this process, or once in each worker process.
_SHARED: tuple[Sequence[Row], list[list[str]], dict] | None = None


def _share(shared: tuple[Sequence[Row], list[list[str]], dict] | None) -> None:
    global _SHARED
    _SHARED = shared


def _fold(fold: str) -> tuple[str, dict[str, Classification]] | None:
    """Train without ``fold``'s rows and classify them (None: the fold has no rows)."""
    assert _SHARED is not None
    rows, feats, settings = _SHARED
    train_set = [
        (f, r.intent, r.sentiment, source_weight(r.source, settings))
        for f, r in zip(feats, rows, strict=True)
        if r.source != fold
    ]
    if len(train_set) == len(rows):
        return None
    model = Model(train(train_set, **settings))
    held = [r for r in rows if r.source == fold]
    return fold, {r.text: decide_with(model, r.prepared, r.detected, r.view, r.score) for r in held}


def cross_writer(
    rows: Sequence[Row], settings: dict, folds: Sequence[str] = FOLDS, jobs: int = 1
) -> tuple[Metrics, dict[str, Metrics]]:
    """Figures pooled over the writers' folds (``hand_*``) and per fold; ``jobs`` folds
    are trained at a time, in worker processes where there is more than one (forked when
    this process has a single thread, which is cheap; spawned otherwise, since forking a
    threaded process can deadlock)."""
    shape = shape_of(settings)
    feats = [features(r.prepared, r.detected, r.view, shape) for r in rows]
    shared = (rows, feats, settings)
    if jobs > 1 and len(folds) > 1:
        method = "fork" if threading.active_count() == 1 else "spawn"
        context = multiprocessing.get_context(method)
        with context.Pool(jobs, initializer=_share, initargs=(shared,)) as pool:
            results = pool.map(_fold, folds, chunksize=1)
    else:
        _share(shared)
        try:
            results = [_fold(fold) for fold in folds]
        finally:
            _share(None)
    pooled_rows: list[dict[str, str]] = []
    pooled: dict[str, Classification] = {}
    per_fold = {}
    for result in results:
        if result is None:
            continue
        fold, got = result
        gold = [
            {"text": r.text, "language": r.language, "intent": r.intent, "sentiment": r.sentiment}
            for r in rows
            if r.source == fold
        ]
        per_fold[fold] = measure(gold, got.__getitem__, fold)
        if fold.startswith("hand_"):
            pooled_rows += gold
            pooled.update(got)
    return measure(pooled_rows, pooled.__getitem__, "cross-writer"), per_fold


def line(name: str, metrics: Metrics) -> str:
    f = summary(metrics)
    return (
        f"{name:<20} n={metrics.rows:<5} intent {f['intent:all']:.3f} (en {f['intent:en']:.3f}, "
        f"es {f['intent:es']:.3f})  sentiment {f['sentiment:all']:.3f} (en "
        f"{f['sentiment:en']:.3f}, es {f['sentiment:es']:.3f})  language "
        f"{f['language:all']:.3f}  complaint recall {f['complaint_recall']:.3f}"
    )


def _value(text: str) -> float:
    return float(text)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    jobs = 1
    if args[:1] == ["--jobs"] and len(args) > 1:
        jobs = max(1, int(args[1]))
        args = args[2:]
    settings = {k: _value(v) for k, v in (a.split("=", 1) for a in args)}
    rows = load()
    pooled, per_fold = cross_writer(rows, settings, jobs=jobs)
    for name, m in per_fold.items():
        print(line(name, m))
    print(line("pooled writers", pooled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
