"""Evaluate :func:`lib.classify.classify` on labelled CSV files.

Usage::

    python -m lib.classify.evaluate [CSV ...] [--errors]

CSV columns: ``text,language,intent,sentiment``.  Without arguments the
dev and holdout sets in ``tests/data/`` are evaluated.  Prints accuracy per
field (language, intent, sentiment) per gold language and overall, and an
intent confusion matrix.  ``--errors`` also lists misclassified rows.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import classify

FIELDS = ("language", "intent", "sentiment")
INTENTS = ("complaint", "question", "praise", "other")
DEFAULT_FILES = (
    "tests/data/classification_dev.csv",
    "tests/data/classification_holdout.csv",
)


@dataclass
class Report:
    name: str
    rows: int = 0
    #: (gold language group, field) -> [correct, total]; group "all" = overall.
    counts: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def accuracy(self, group: str, name: str) -> float:
        correct, total = self.counts[(group, name)]
        return correct / total if total else float("nan")


def load(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def evaluate(
    rows: list[dict[str, str]], name: str = "", predict: Callable[[str], Any] = classify
) -> Report:
    report = Report(name=name)
    for row in rows:
        result = predict(row["text"])
        report.rows += 1
        group = row["language"] or "unknown"
        wrong = []
        for name_ in FIELDS:
            got = getattr(result, name_)
            ok = got == row[name_]
            for g in (group, "all"):
                report.counts[(g, name_)][0] += ok
                report.counts[(g, name_)][1] += 1
            if not ok:
                wrong.append(f"{name_}={got!r} (gold {row[name_]!r})")
        report.confusion[(row["intent"], result.intent)] += 1
        if wrong:
            report.errors.append(f"{row['text']!r}: " + ", ".join(wrong) + f" score={result.score}")
    return report


def format_report(report: Report, show_errors: bool = False) -> str:
    groups = sorted({g for g, _ in report.counts if g != "all"}) + ["all"]
    lines = [
        f"== {report.name} ({report.rows} rows)",
        f"{'group':<9}" + "".join(f"{f:>11}" for f in FIELDS),
    ]
    for group in groups:
        n = report.counts[(group, "intent")][1]
        cells = "".join(f"{report.accuracy(group, f):>11.1%}" for f in FIELDS)
        lines.append(f"{group + f' ({n})':<9}{cells}")
    lines.append("intent confusion (rows = gold, columns = predicted):")
    lines.append(f"{'':<11}" + "".join(f"{i:>10}" for i in INTENTS))
    for gold in INTENTS:
        lines.append(f"{gold:<11}" + "".join(f"{report.confusion[(gold, p)]:>10}" for p in INTENTS))
    if show_errors:
        lines.append("errors:")
        lines.extend("  " + e for e in report.errors)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    show_errors = "--errors" in args
    files = [a for a in args if a != "--errors"] or list(DEFAULT_FILES)
    for path in files:
        print(format_report(evaluate(load(path), name=str(path)), show_errors))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
