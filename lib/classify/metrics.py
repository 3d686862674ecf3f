"""Accuracy with a 95 % Wilson interval and per-class precision/recall.

Pure Python, shared by ``python -m lib.classify.evaluate``, the training
command and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

FIELDS = ("language", "intent", "sentiment")
LABELS = {
    "language": ("en", "es", ""),
    "intent": ("complaint", "question", "praise", "other"),
    "sentiment": ("negative", "neutral", "positive"),
}


def wilson(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``correct / total``."""
    if total <= 0:
        return (float("nan"), float("nan"))
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Score:
    correct: int = 0
    total: int = 0

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.total)

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.value:.3f} [{low:.3f}, {high:.3f}] ({self.correct}/{self.total})"


@dataclass
class Metrics:
    """Per (group, field) accuracy and per (field, label) precision/recall."""

    name: str = ""
    rows: int = 0
    accuracy: dict[tuple[str, str], Score] = field(default_factory=dict)
    #: (field, label) -> [true positives, predicted, gold]
    counts: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def acc(self, group: str, name: str) -> float:
        score = self.accuracy.get((group, name))
        return score.value if score else float("nan")

    def precision(self, name: str, label: str) -> float:
        tp, predicted, _gold = self.counts.get((name, label), [0, 0, 0])
        return tp / predicted if predicted else float("nan")

    def recall(self, name: str, label: str) -> float:
        tp, _predicted, gold = self.counts.get((name, label), [0, 0, 0])
        return tp / gold if gold else float("nan")

    def recall_score(self, name: str, label: str) -> Score:
        tp, _predicted, gold = self.counts.get((name, label), [0, 0, 0])
        return Score(tp, gold)

    def groups(self) -> list[str]:
        return sorted({g for g, _ in self.accuracy if g != "all"}) + ["all"]


def measure(
    rows: Iterable[dict[str, str]], predict: Callable[[str], object], name: str = ""
) -> Metrics:
    """Score ``predict(text)`` (anything with language/intent/sentiment attributes)."""
    metrics = Metrics(name=name)
    for row in rows:
        got = predict(row["text"])
        metrics.rows += 1
        group = row["language"] or "none"
        for name_ in FIELDS:
            gold, predicted = row[name_], getattr(got, name_)
            for g in (group, "all"):
                score = metrics.accuracy.setdefault((g, name_), Score())
                score.correct += gold == predicted
                score.total += 1
            metrics.counts.setdefault((name_, predicted), [0, 0, 0])[1] += 1
            cell = metrics.counts.setdefault((name_, gold), [0, 0, 0])
            cell[2] += 1
            cell[0] += gold == predicted
    return metrics


def format_metrics(metrics: Metrics) -> str:
    """A Markdown summary: accuracy with interval per group, then precision/recall."""
    lines = [f"### {metrics.name} ({metrics.rows} rows)", ""]
    lines.append("| group | language | intent | sentiment |")
    lines.append("| --- | --- | --- | --- |")
    for group in metrics.groups():
        n = metrics.accuracy[(group, "intent")].total
        cells = " | ".join(str(metrics.accuracy[(group, f)]).rsplit(" (", 1)[0] for f in FIELDS)
        lines.append(f"| {group} ({n}) | {cells} |")
    lines.append("")
    lines.append("| field | label | precision | recall | gold |")
    lines.append("| --- | --- | --- | --- | --- |")
    for name_ in ("intent", "sentiment"):
        for label in LABELS[name_]:
            gold = metrics.counts.get((name_, label), [0, 0, 0])[2]
            lines.append(
                f"| {name_} | {label} | {metrics.precision(name_, label):.3f} | "
                f"{metrics.recall(name_, label):.3f} | {gold} |"
            )
    return "\n".join(lines)
