"""Split classification.csv into dev (~60%) and holdout (~40%) sets.

Stratified by (language, intent) with a fixed seed so the split is
reproducible.  Run once after editing the full data set:

    python tests/data/split_dataset.py
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIELDS = ["text", "language", "intent", "sentiment"]
SEED = 20241123
DEV_SHARE = 0.6


def main() -> None:
    with (HERE / "classification.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        groups[(row["language"], row["intent"])].append(row)
    rng = random.Random(SEED)
    dev: list[dict[str, str]] = []
    holdout: list[dict[str, str]] = []
    for key in sorted(groups):
        members = groups[key][:]
        rng.shuffle(members)
        cut = round(len(members) * DEV_SHARE)
        dev.extend(members[:cut])
        holdout.extend(members[cut:])
    for name, part in (
        ("classification_dev.csv", dev),
        ("classification_holdout.csv", holdout),
    ):
        with (HERE / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(part)
        print(f"{name}: {len(part)} rows")


if __name__ == "__main__":
    main()
