"""A small learned model on top of the rules: multinomial logistic regression.

Two heads (intent, sentiment) share one sparse binary feature vector: word
unigrams and bigrams, character 3- and 4-grams of the folded text, emoji,
punctuation shape, and the rule layer's own evidence (cue scores, its intent
decision, its sentiment compound, sarcasm/resolution markers), bucketed.
A multinomial naive Bayes over the same features is folded into the same
weight table (an ensemble of two linear models that costs nothing to run).

Training is pure Python (Adagrad with L2 on the touched weights, fixed seed,
fixed epoch count), so the same corpus gives bit-for-bit the same artefact on
any machine and nothing beyond the standard library is needed, neither to
train nor at run time. The artefact is ``data/model.json``: the feature
vocabulary with one weight per class, rounded, loaded once per process.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .text import WORD_RE, Prepared

MODEL_PATH = Path(__file__).resolve().parent / "data" / "model.json"
FORMAT = 1
INTENTS = ("complaint", "question", "praise", "other")
SENTIMENTS = ("negative", "neutral", "positive")

#: Training settings; part of the artefact, so a retrain states what made it.
DEFAULTS: dict[str, float] = {
    "epochs": 8,
    "rate": 0.2,
    "l2": 3e-4,
    "min_count": 2,
    "seed": 13,
    "digits": 4,
    "skip": 0.05,
    # Added to the complaint logit when deciding (not while training): a missed
    # complaint is a missed ticket. Chosen by cross-writer validation: over eleven
    # writers the largest bias that cost no intent accuracy was 2.5; over twenty-three,
    # with the guard limited to short posts (below), 3.0 is the smallest that loses no
    # complaint recall against 2.5 with the guard everywhere (0.918 against 0.917, intent
    # 0.868 against 0.861).
    "complaint_bias": 3.0,
    # Feature shape: word n-grams up to this length, character n-grams of these lengths
    # (trigrams and 2-5-grams were no better in cross-writer validation).
    "word_n": 2,
    "char_lo": 3,
    "char_hi": 4,
    # A multinomial naive Bayes (Laplace alpha) added to the regression with this
    # weight: +1.8 points of intent in cross-writer validation (docs/classification.md).
    "nb": 0.3,
    "nb_alpha": 0.3,
    # 1: the rule layer's complaint cues in a clearly negative post overrule praise/other,
    # a post without words takes its sentiment from the emoji lexicon, and a short post
    # called a complaint with no rule evidence is marked unsure (see core.decide_with).
    # Fixes negated compliments ("no me gusta"); a post it makes a complaint is then never
    # called positive.
    "guard": 1,
    # ... in posts of at most this many words: in longer ones the rule layer's complaint
    # cues are mostly a problem told in a thank-you ("lost my wallet, the cashier kept it
    # for me"); the guard at any length cost 1.0 point of cross-writer intent.
    "guard_words": 8,
    # How much a complaint's "negative" and praise's "positive" are favoured when the
    # sentiment head decides (added to that label's log-probability; absent: the intent
    # decides alone, as before). A post is called a complaint more often than it is
    # one (the complaint bias above), and the head often knows better: 2.0 (the middle of a
    # plateau from 1.5 to 4) gained sentiment in 22 of 23 cross-writer folds
    # (docs/classification.md).
    "tie": 2.0,
}

#: The shape of artefacts that predate these settings.
_SHAPE_KEYS = ("word_n", "char_lo", "char_hi")


@dataclass(frozen=True, slots=True)
class RuleView:
    """What the rule layer concluded, as the model sees it."""

    intent: str
    compound: float
    scores: dict[str, float]
    sarcastic: bool
    resolved: bool
    directed: bool


def _bucket(value: float) -> str:
    if value <= 0:
        return "0"
    if value < 1.5:
        return "1"
    if value < 3.0:
        return "2"
    if value < 5.0:
        return "3"
    return "4"


def feature_parts(
    prepared: Prepared,
    language: str,
    rules: RuleView,
    shape: tuple[int, int, int] = (2, 3, 4),
) -> tuple[list[str], list[str]]:
    """The post's named features and its character n-grams (without their ``c:``
    prefix), each in a stable order, possibly repeated.

    ``shape`` is (longest word n-gram, shortest and longest character n-gram)."""
    word_n, char_lo, char_hi = shape
    folded = prepared.folded
    tokens = [t.replace("’", "'") for t in WORD_RE.findall(folded)]
    tokens = ["0" if t[0].isdigit() else t for t in tokens]
    out: list[str] = ["bias", f"lang:{language}", f"ri:{rules.intent}"]
    for name, value in rules.scores.items():
        out.append(f"rs:{name}:{_bucket(value)}")
    out.append(f"rc:{round(rules.compound * 4) / 4}")
    if rules.sarcastic:
        out.append("r:sarcastic")
    if rules.resolved:
        out.append("r:resolved")
    if rules.directed:
        out.append("r:directed")
    raw = prepared.raw
    if "?" in raw or "¿" in raw:
        out.append("p:?")
    if raw.rstrip().endswith("?"):
        out.append("p:ends?")
    if "!" in raw:
        out.append("p:!")
    if raw.count("!") + raw.count("?") >= 3:
        out.append("p:!!!")
    letters = list(filter(str.isalpha, prepared.text))
    if len(letters) >= 8 and sum(map(str.isupper, letters)) > 0.7 * len(letters):
        out.append("p:caps")
    out.append(f"len:{min(len(tokens) // 4, 8)}")
    if prepared.urls:
        out.append("p:url")
    out.extend(f"e:{emoji}" for emoji in prepared.emoji)
    if tokens:
        out.append(f"first:{tokens[0]}")
    out.extend(f"w:{token}" for token in tokens)
    if word_n >= 2:
        out.extend(f"b:{a} {b}" for a, b in pairwise(tokens))
    if word_n >= 3:
        out.extend(f"t:{' '.join(tokens[i : i + 3])}" for i in range(len(tokens) - 2))
    padded = " " + " ".join(tokens) + " "
    grams: list[str] = []
    for n in range(char_lo, char_hi + 1):
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return out, grams


def features(
    prepared: Prepared, language: str, rules: RuleView, shape: tuple[int, int, int] = (2, 3, 4)
) -> list[str]:
    """The sparse binary features of one post (deduplicated, in a stable order)."""
    named, grams = feature_parts(prepared, language, rules, shape)
    return list(dict.fromkeys([*named, *(f"c:{g}" for g in grams)]))


#: Each weight of a feature, in units of the artefact's rounding, plus ``_OFFSET`` (so
#: it is never negative), in its own ``_FIELD`` bits of one integer: summing the integers
#: of a post's features sums every label's weights at once, exactly, with no carry
#: between fields for up to 2**31 features a post.
_FIELD = 64
_OFFSET = 1 << 31


def _pack(values: Sequence[int]) -> int:
    if any(abs(v) >= _OFFSET for v in values):
        raise ValueError("a weight is too large to pack")
    return sum((v + _OFFSET) << (_FIELD * i) for i, v in enumerate(values))


def _unpack(total: int, count: int, width: int) -> tuple[int, ...]:
    """The per-label sums of ``count`` packed rows whose sum is ``total``."""
    mask = (1 << _FIELD) - 1
    return tuple(((total >> (_FIELD * i)) & mask) - count * _OFFSET for i in range(width))


def _softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]


class Model:
    """Loaded artefact: feature -> (intent weights..., sentiment weights...)."""

    def __init__(self, data: dict) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown model format {data.get('format')!r}")
        self.intents: tuple[str, ...] = tuple(data["intents"])
        self.sentiments: tuple[str, ...] = tuple(data["sentiments"])
        self.meta: dict = data.get("meta", {})
        width = len(self.intents) + len(self.sentiments)
        self.scale = 10 ** int(self.meta.get("settings", {}).get("digits", 4))
        self.weights: dict[str, tuple[int, ...]] = {}
        #: The hot path of prediction: each feature's weights packed into one integer
        #: (``_pack``), named features and character n-grams (without their ``c:``
        #: prefix) apart, so a post's logits are one ``sum`` over its features.
        self.packed: dict[str, int] = {}
        self.grams: dict[str, int] = {}
        for name, row in data["weights"].items():
            if len(row) != width:
                raise ValueError(f"feature {name!r} has {len(row)} weights, not {width}")
            # Integers in units of the artefact's rounding: sums are exact (so they do
            # not depend on the order of the features) and faster than math.fsum.
            values = tuple(round(float(v) * self.scale) for v in row)
            self.weights[name] = values
            if name.startswith("c:"):
                self.grams[name[2:]] = _pack(values)
            else:
                self.packed[name] = _pack(values)
        self.width = width
        settings = self.meta.get("settings", {})
        # Added to an intent's logit when deciding: "<intent>_bias" in the settings.
        self.intent_bias = [float(settings.get(f"{i}_bias", 0.0)) for i in self.intents]
        #: Weight of the sentiment head in the intent decision (0: intent head alone).
        self.joint = float(settings.get("joint", 0.0))
        #: Let the rule layer's complaint cues and emoji sentiment overrule (see core).
        self.guard = int(settings.get("guard", 0))
        #: The guard's reach in words (None: any length, as in artefacts before it).
        words = settings.get("guard_words")
        self.guard_words: int | None = None if words is None else int(words)
        #: Log-odds by which an intent's own sentiment is favoured (None: always taken).
        tie = settings.get("tie")
        self.tie: float | None = None if tie is None else float(tie)
        self.shape: tuple[int, int, int] = tuple(  # type: ignore[assignment]
            int(settings.get(k, v)) for k, v in zip(_SHAPE_KEYS, (2, 3, 4), strict=True)
        )

    def _probabilities(self, rows: list[tuple[int, ...]]) -> tuple[list[float], list[float]]:
        scale = self.scale
        logits = [total / scale for total in map(sum, zip(*rows, strict=True))] if rows else []
        logits = logits or [0.0] * self.width
        k = len(self.intents)
        intent = [v + b for v, b in zip(logits[:k], self.intent_bias, strict=True)]
        return _softmax(intent), _softmax(logits[k:])

    def predict(self, feats: Iterable[str]) -> tuple[list[float], list[float]]:
        """Probabilities per intent and per sentiment, in the artefact's label order."""
        get = self.weights.get
        return self._probabilities([row for f in set(feats) if (row := get(f)) is not None])

    def predict_parts(
        self, named: Iterable[str], grams: Iterable[str]
    ) -> tuple[list[float], list[float]]:
        """:meth:`predict` on :func:`feature_parts` (the same result, faster: one sum
        of packed integers instead of a column sum per label)."""
        found = [
            row
            for row in (*map(self.packed.get, set(named)), *map(self.grams.get, set(grams)))
            if row is not None
        ]
        if not found:
            return self._probabilities([])
        return self._probabilities([_unpack(sum(found), len(found), self.width)])


_model: Model | None = None
_model_failed = False
_lock = threading.Lock()


def get_model() -> Model | None:
    """The shipped model, loaded once per process; None if missing or unreadable."""
    global _model, _model_failed
    if _model is not None or _model_failed:
        return _model
    with _lock:
        if _model is None and not _model_failed:
            try:
                _model = load_model(MODEL_PATH)
            except (OSError, ValueError, KeyError, TypeError):
                _model_failed = True
    return _model


def load_model(path: Path) -> Model:
    return Model(json.loads(path.read_text(encoding="utf-8")))


def reset_model() -> None:
    """Forget the loaded model (after a retrain writes a new artefact)."""
    global _model, _model_failed
    with _lock:
        _model, _model_failed = None, False


# --- training ---------------------------------------------------------------


def train(samples: Sequence[tuple], **settings: float) -> dict:
    """Fit both heads on ``(features, intent, sentiment)`` samples, optionally with a
    fourth item, the sample's weight (default 1).

    ``balance`` (0..1) weighs each intent class by (mean class size / its size) to
    that power. Returns the artefact as a JSON-ready dict. Deterministic for a
    given input order and settings.
    """
    opts = {**DEFAULTS, **settings}
    counts: Counter[str] = Counter()
    for feats, *_labels in samples:
        counts.update(feats)
    vocab = sorted(f for f, c in counts.items() if c >= opts["min_count"] or f == "bias")
    index = {f: i for i, f in enumerate(vocab)}
    k_i, k_s = len(INTENTS), len(SENTIMENTS)
    width = k_i + k_s
    per_class = Counter(s[1] for s in samples)
    balance = float(opts.get("balance", 0.0))
    mean = len(samples) / max(1, len(per_class))
    class_weight = {c: (mean / n) ** balance for c, n in per_class.items()}
    rows = [
        (
            [index[f] for f in s[0] if f in index],
            INTENTS.index(s[1]),
            SENTIMENTS.index(s[2]),
            (s[3] if len(s) > 3 else 1.0) * class_weight[s[1]],
        )
        for s in samples
    ]
    weights = [[0.0] * width for _ in vocab]
    squares = [[1e-8] * width for _ in vocab]
    rate, l2, skip = float(opts["rate"]), float(opts["l2"]), float(opts["skip"])
    rng = random.Random(int(opts["seed"]))
    order = list(range(len(rows)))
    for _epoch in range(int(opts["epochs"])):
        rng.shuffle(order)
        for r in order:
            ids, gold_i, gold_s, weight = rows[r]
            logits = [0.0] * width
            for f in ids:
                w = weights[f]
                for j in range(width):
                    logits[j] += w[j]
            grad = _softmax(logits[:k_i]) + _softmax(logits[k_i:])
            grad[gold_i] -= 1.0
            grad[k_i + gold_s] -= 1.0
            if max(abs(g) for g in grad) < skip:
                continue  # already fitted: the update would be noise
            if weight != 1.0:
                grad = [g * weight for g in grad]
            for f in ids:
                w, sq = weights[f], squares[f]
                for j in range(width):
                    g = grad[j] + l2 * w[j]
                    if g:
                        sq[j] += g * g
                        w[j] -= rate * g / math.sqrt(sq[j])
    nb = float(opts.get("nb", 0.0))
    if nb:
        _add_naive_bayes(weights, rows, index["bias"], k_i, nb, float(opts.get("nb_alpha", 1.0)))
    digits = int(opts["digits"])
    table = {}
    for f, w in zip(vocab, weights, strict=True):
        rounded = [round(v, digits) for v in w]
        if any(rounded):
            table[f] = rounded
    return {
        "format": FORMAT,
        "intents": list(INTENTS),
        "sentiments": list(SENTIMENTS),
        "meta": {"settings": opts, "samples": len(samples), "features": len(table)},
        "weights": table,
    }


def _add_naive_bayes(
    weights: list[list[float]],
    rows: Sequence[tuple[list[int], int, int, float]],
    bias: int,
    k_i: int,
    scale: float,
    alpha: float,
) -> None:
    """Add ``scale`` x a multinomial naive Bayes' log-probabilities to the weights.

    Naive Bayes' log-posterior is a sum over the post's features plus a log-prior,
    so it folds into the same table: for each head, feature f gains
    ``scale * log P(f | class)`` (centred over the classes) and the bias feature the
    log-priors. An ensemble of the two linear models, at no cost at prediction time.
    """
    width = len(weights[0])
    heads = ((0, k_i), (k_i, width))
    counts = [[0.0] * width for _ in weights]
    totals = [0.0] * width
    priors = [0.0] * width
    for ids, gold_i, gold_s, weight in rows:
        for column in (gold_i, k_i + gold_s):
            priors[column] += weight
            totals[column] += weight * len(ids)
            for f in ids:
                counts[f][column] += weight
    size = len(weights)
    for f, row in enumerate(counts):
        for lo, hi in heads:
            logs = [math.log((row[j] + alpha) / (totals[j] + alpha * size)) for j in range(lo, hi)]
            if f == bias:
                logs = [
                    v + math.log((priors[j] + 1.0) / (sum(priors[lo:hi]) + hi - lo))
                    for v, j in zip(logs, range(lo, hi), strict=True)
                ]
            mean = sum(logs) / len(logs)
            for j, v in zip(range(lo, hi), logs, strict=True):
                weights[f][j] += scale * (v - mean)


def dumps(artefact: dict) -> str:
    """Stable JSON text of an artefact (sorted keys, one feature per line)."""
    head = {k: v for k, v in artefact.items() if k != "weights"}
    lines = [json.dumps(head, sort_keys=True, ensure_ascii=False)[:-1] + ', "weights": {']
    items = sorted(artefact["weights"].items())
    for n, (name, row) in enumerate(items):
        comma = "," if n < len(items) - 1 else ""
        lines.append(f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(row)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
