"""Classifier throughput: texts per second on one core, the learned model beside the
rule layer it builds on (what ``classify()`` was before issue 13), in the same run.

The 4,000 posts of the training corpus (mixed English and Spanish, 10 to 400
characters), classified three times over by each; the best of three rounds is kept
and measured in CPU time of this process (so other processes on a shared machine
weigh less), with wall time beside it. The floor is 2,000 texts/s.

``python -m bench classify`` (or ``make bench``). Needs no database.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = 2_000
ROUNDS = 3


def _rate(fn, texts: list[str]) -> tuple[float, float]:
    best_cpu = best_wall = float("inf")
    for _ in range(ROUNDS):
        cpu, wall = time.process_time(), time.perf_counter()
        for text in texts:
            fn(text)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return len(texts) / best_cpu, len(texts) / best_wall


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from lib.classify import classify
    from lib.classify.core import rules_only
    from lib.classify.training import CORPUS, load_rows

    texts = [row["text"] for row in load_rows(CORPUS[:2])]
    classify(texts[0])  # load lingua, vader and the model once, outside the timing
    rules_only(texts[0])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{len(texts)} texts, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    results = {}
    for name, fn in (("rule layer alone", rules_only), ("classify() with the model", classify)):
        cpu, wall = _rate(fn, texts)
        results[name] = cpu
        verdict = "ok" if cpu >= FLOOR else "BELOW FLOOR"
        print(
            f"  {name:<28} {cpu:>7,.0f} texts/s CPU  {wall:>7,.0f} wall  floor {FLOOR:,}  {verdict}"
        )
    before, after = results.values()
    print(f"  model cost: {after / before:.2f} x the rule layer's throughput")


if __name__ == "__main__":
    main()
