"""Import the blind writers' hand-written posts into corpus CSVs.

Usage::

    python -m lib.classify.corpus.importer SOURCE_DIR

``SOURCE_DIR`` holds one folder per writer (``wa/``, ``wb/``, ...), each with
``en.tsv`` and/or ``es.tsv``: one post per line, ``intent TAB sentiment TAB text``
(intent ``other-nolang`` is an emoji-only or handle-only post: intent ``other``,
no language). Each writer becomes ``lib/classify/corpus/hand_<writer>.csv``
(columns ``text,language,intent,sentiment,writer``), in the writer's own order.

Dropped, and counted (never printed):

* malformed lines (not three fields, unknown labels, empty text);
* exact and punctuation-insensitive duplicates, of each other or of a row already
  in the corpus (``train_*.csv`` and the ``hand_*.csv`` of writers imported before
  whose folders are not in ``SOURCE_DIR``), the development set or the holdout set
  (the first one wins, writers taken in name order);
* any row too close to a row of the frozen blind set: the same normalised text,
  or, for posts of four words or more, a word-set Jaccard overlap of 0.6 or more
  with a blind row of four words or more. The blind set is read for this check
  only; the script reports how many rows it dropped, never which.

Re-running it on the same files gives the same CSVs byte for byte.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..text import fold, sanitize

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BLIND = ROOT / "tests" / "data" / "classification_blind.csv"
#: Rows new posts must not duplicate (the blind set is handled apart, more strictly).
EXISTING = (
    HERE / "train_en.csv",
    HERE / "train_es.csv",
    ROOT / "tests" / "data" / "classification_dev.csv",
    ROOT / "tests" / "data" / "classification_holdout.csv",
)
FIELDS = ("text", "language", "intent", "sentiment", "writer")
INTENTS = {"complaint", "question", "praise", "other"}
SENTIMENTS = {"negative", "neutral", "positive"}
JACCARD = 0.6
MIN_WORDS = 4

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case, accent-folded words of a post (punctuation, emoji and ``@``/``#`` gone)."""
    return _WORD.findall(fold(sanitize(text)).lower())


def key(text: str) -> str:
    """Normalised text: words only; for a post without words, its symbols (emoji) without
    spaces, so that two different emoji-only posts stay apart."""
    found = words(text)
    if found:
        return " ".join(found)
    return "".join(ch for ch in sanitize(text) if not ch.isspace())


class BlindGuard:
    """Answers "too close to a blind row?" without exposing the blind rows."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.keys: set[str] = set()
        self.sets: list[frozenset[str]] = []
        for text in texts:
            self.keys.add(key(text))
            found = frozenset(words(text))
            if len(words(text)) >= MIN_WORDS:
                self.sets.append(found)

    def too_close(self, text: str) -> bool:
        if key(text) in self.keys:
            return True
        if len(words(text)) < MIN_WORDS:
            return False
        mine = frozenset(words(text))
        return any(len(mine & other) >= JACCARD * len(mine | other) for other in self.sets)


def _read_csv_texts(paths: Iterable[Path]) -> list[str]:
    texts = []
    for path in paths:
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as fh:
                texts.extend(row["text"] for row in csv.DictReader(fh))
    return texts


def parse(lines: Iterable[str], language: str) -> tuple[list[dict[str, str]], int]:
    """Rows of one writer's TSV file, and how many lines were malformed."""
    rows, bad = [], 0
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            bad += 1
            continue
        intent, sentiment, text = (p.strip() for p in parts)
        lang = language
        if intent == "other-nolang":
            intent, lang = "other", ""
        if intent not in INTENTS or sentiment not in SENTIMENTS or not text:
            bad += 1
            continue
        rows.append({"text": text, "language": lang, "intent": intent, "sentiment": sentiment})
    return rows, bad


def import_writers(
    source: Path,
    *,
    output: Path = HERE,
    blind: Path = BLIND,
    existing: Sequence[Path] = EXISTING,
) -> dict[str, Counter[str]]:
    """Write ``hand_<writer>.csv`` for each writer folder in ``source``; return counts."""
    guard = BlindGuard(_read_csv_texts([blind]))
    folders = sorted(p for p in source.iterdir() if p.is_dir())
    # Writers imported before, whose folders are not here, count as existing rows: a
    # new writer's post that repeats one of theirs is a duplicate.
    earlier = [
        path
        for path in sorted(output.glob("hand_*.csv"))
        if path.stem.removeprefix("hand_") not in {folder.name for folder in folders}
    ]
    seen = {key(t) for t in _read_csv_texts([*existing, *earlier])}
    report: dict[str, Counter[str]] = {}
    for folder in folders:
        writer = folder.name
        counts: Counter[str] = Counter()
        kept: list[dict[str, str]] = []
        for language in ("en", "es"):
            path = folder / f"{language}.tsv"
            if not path.is_file():
                continue
            rows, bad = parse(path.read_text(encoding="utf-8").splitlines(), language)
            counts["read"] += len(rows) + bad
            counts["malformed"] += bad
            for row in rows:
                k = key(row["text"])
                if k in seen:
                    counts["duplicate"] += 1
                    continue
                seen.add(k)
                if guard.too_close(row["text"]):
                    counts["near_blind"] += 1
                    continue
                kept.append({**row, "writer": writer})
                counts[f"kept:{row['language'] or 'none'}"] += 1
        counts["kept"] = len(kept)
        buffer = io.StringIO()
        out = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        out.writeheader()
        out.writerows(kept)
        (output / f"hand_{writer}.csv").write_text(buffer.getvalue(), encoding="utf-8")
        report[writer] = counts
    return report


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not Path(args[0]).is_dir():
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    for writer, c in import_writers(Path(args[0])).items():
        print(
            f"{writer}: read {c['read']}, malformed {c['malformed']}, duplicates "
            f"{c['duplicate']}, too close to the blind set {c['near_blind']}, kept "
            f"{c['kept']} (en {c['kept:en']}, es {c['kept:es']}, no language {c['kept:none']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
