"""The hand-written corpus: the importer's filters, and cross-writer validation."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from lib.classify import crossval
from lib.classify.corpus import importer
from lib.classify.model import Model, train
from lib.classify.training import HAND, ROOT, load_rows


def _csv(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "language", "intent", "sentiment"])
        for text in texts:
            out.writerow([text, "en", "other", "neutral"])
    return path


def test_import_drops_duplicates_and_rows_close_to_the_blind_set(tmp_path: Path) -> None:
    source = tmp_path / "staging"
    (source / "wa").mkdir(parents=True)
    (source / "wb").mkdir()
    (source / "wa" / "en.tsv").write_text(
        "complaint\tnegative\tmy parcel never came and nobody answers the phone\n"
        "complaint\tnegative\tMy parcel never came, and nobody answers the phone!!\n"  # dup
        "question\tneutral\tdo you open on sundays in leeds\n"  # same words as blind
        "praise\tpositive\tthe new app is brilliant and so fast now\n"  # Jaccard 0.8 to blind
        "other-nolang\tneutral\t🎉🎉\n"
        "praise\tpositive\tlovely staff\n"  # in the existing corpus already
        "bogus line without tabs\n"
        "complaint\tangry\tunknown sentiment label\n",
        encoding="utf-8",
    )
    (source / "wb" / "es.tsv").write_text(
        "question\tneutral\t¿abrís el domingo?\n"
        "complaint\tnegative\tmy parcel never came and nobody answers the phone\n",  # wa's
        encoding="utf-8",
    )
    blind = _csv(
        tmp_path / "blind.csv",
        ["Do you open on Sundays in Leeds?", "the new app is brilliant and so fast", "🎉"],
    )
    existing = _csv(tmp_path / "train.csv", ["Lovely staff!"])
    out = tmp_path / "out"
    out.mkdir()

    report = importer.import_writers(source, output=out, blind=blind, existing=[existing])

    assert dict(report["wa"]) == {
        "read": 8,
        "malformed": 2,
        "duplicate": 2,
        "near_blind": 2,
        "kept": 2,
        "kept:en": 1,
        "kept:none": 1,
    }
    assert report["wb"]["duplicate"] == 1 and report["wb"]["kept"] == 1
    rows = load_rows([out / "hand_wa.csv", out / "hand_wb.csv"])
    assert [(r["text"], r["language"], r["intent"], r["writer"]) for r in rows] == [
        ("my parcel never came and nobody answers the phone", "en", "complaint", "wa"),
        ("🎉🎉", "", "other", "wa"),  # an emoji-only post differs from the blind "🎉"
        ("¿abrís el domingo?", "es", "question", "wb"),
    ]
    first = (out / "hand_wa.csv").read_bytes()
    importer.import_writers(source, output=out, blind=blind, existing=[existing])
    assert (out / "hand_wa.csv").read_bytes() == first  # reproducible


def test_a_later_writer_is_checked_against_the_writers_imported_before(tmp_path: Path) -> None:
    """Importing only new writers' folders: a post that repeats an earlier writer's
    (whose ``hand_*.csv`` is in the output, its folder gone) is a duplicate, and the
    earlier writer's file is left as it was."""
    out = tmp_path / "out"
    out.mkdir()
    earlier = (out / "hand_wa.csv").write_text(
        "text,language,intent,sentiment,writer\n"
        "the lift has been broken for a week,en,complaint,negative,wa\n",
        encoding="utf-8",
    )
    source = tmp_path / "later"
    (source / "wf").mkdir(parents=True)
    (source / "wf" / "en.tsv").write_text(
        "complaint\tnegative\tThe lift has been broken for a week!\n"
        "question\tneutral\tis the pool open on mondays\n",
        encoding="utf-8",
    )
    blind = _csv(tmp_path / "blind.csv", ["nothing like these"])
    report = importer.import_writers(source, output=out, blind=blind, existing=[])
    assert report["wf"]["duplicate"] == 1 and report["wf"]["kept"] == 1
    assert set(report) == {"wf"}
    assert len((out / "hand_wa.csv").read_text(encoding="utf-8")) == earlier
    rows = load_rows([out / "hand_wf.csv"])
    assert [r["text"] for r in rows] == ["is the pool open on mondays"]


def test_the_committed_hand_written_files_hold_no_blind_overlap() -> None:
    guard = importer.BlindGuard(r["text"] for r in load_rows([importer.BLIND]))
    rows = load_rows(HAND)
    assert len(HAND) >= 3 and len(rows) > 1000
    assert not any(guard.too_close(r["text"]) for r in rows)
    assert len({importer.key(r["text"]) for r in rows}) == len(rows)


def test_naive_bayes_folds_into_the_weight_table() -> None:
    samples = [
        (["bias", "w:broken"], "complaint", "negative"),
        (["bias", "w:thanks"], "praise", "positive"),
        (["bias", "w:how"], "question", "neutral"),
        (["bias", "w:rt"], "other", "neutral"),
    ] * 3
    # No complaint bias: the weights alone decide here (the shipped decision adds it).
    lr = Model(train(samples, epochs=1, complaint_bias=0.0))
    ensemble = Model(train(samples, epochs=1, nb=1.0, complaint_bias=0.0))
    p_lr, _ = lr.predict(["bias", "w:broken"])
    p_nb, _ = ensemble.predict(["bias", "w:broken"])
    assert p_nb[0] > p_lr[0] > 0.25  # NB's evidence adds to the regression's
    nb_only = Model(train(samples, epochs=0, nb=1.0, complaint_bias=0.0))
    assert max(range(4), key=nb_only.predict(["bias", "w:thanks"])[0].__getitem__) == 2


def test_cross_writer_validation_holds_out_one_writer_at_a_time(tmp_path: Path) -> None:
    posts = {
        "hand_wa": ["my order never arrived", "thanks so much for the help", "do you open today"],
        "hand_wb": ["the order never arrived again", "thanks for the quick help", "open today?"],
    }
    labels = [("complaint", "negative"), ("praise", "positive"), ("question", "neutral")]
    paths = []
    for stem, texts in posts.items():
        path = tmp_path / f"{stem}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["text", "language", "intent", "sentiment"])
            for text, (intent, sentiment) in zip(texts, labels, strict=True):
                out.writerow([text, "en", intent, sentiment])
        paths.append(path)
    rows = crossval.load(paths)
    pooled, per_fold = crossval.cross_writer(rows, {"min_count": 1}, ("hand_wa", "hand_wb"))
    assert set(per_fold) == {"hand_wa", "hand_wb"}
    assert pooled.rows == 6 and per_fold["hand_wa"].rows == 3
    assert 0.0 <= pooled.acc("all", "intent") <= 1.0
    # Folds trained in worker processes give the same figures as one after the other:
    # here (spawned workers when this process has threads, forked ones when it has none)
    # and in a fresh single-threaded process, which forks.
    parallel, parallel_folds = crossval.cross_writer(
        rows, {"min_count": 1}, ("hand_wa", "hand_wb"), jobs=2
    )
    assert parallel.accuracy == pooled.accuracy and parallel.counts == pooled.counts
    assert {k: m.accuracy for k, m in parallel_folds.items()} == {
        k: m.accuracy for k, m in per_fold.items()
    }
    script = (
        "import sys, threading\n"
        "from lib.classify import crossval\n"
        "assert threading.active_count() == 1\n"
        "rows = crossval.load(sys.argv[1:])\n"
        "m, _ = crossval.cross_writer(rows, {'min_count': 1}, ('hand_wa', 'hand_wb'), jobs=2)\n"
        "print(m.acc('all', 'intent'), m.acc('all', 'sentiment'), m.rows)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == [
        str(pooled.acc("all", "intent")),
        str(pooled.acc("all", "sentiment")),
        "6",
    ]
