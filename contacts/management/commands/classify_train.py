"""``python manage.py classify_train``: retrain the post classifier and print its figures."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lib.classify.metrics import format_metrics
from lib.classify.model import MODEL_PATH
from lib.classify.training import CORPUS, retrain


class Command(BaseCommand):
    help = (
        "Retrain lib/classify's model from the labelled corpus (plus exported corrections), "
        "write the artefact and print the holdout and blind-set evaluation."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--corrections",
            action="append",
            default=[],
            help="CSV of agent corrections (from classify_corrections) to train on as well",
        )
        parser.add_argument(
            "--output", default=str(MODEL_PATH), help="where to write the model artefact"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="train and evaluate, write nothing"
        )

    def handle(self, *args, corrections: list[str], output: str, dry_run: bool, **options):
        for path in corrections:
            if not Path(path).is_file():
                raise CommandError(f"No such corrections file: {path}")
        paths = [*CORPUS, *corrections]
        text, metrics = retrain(paths=paths, output=None if dry_run else Path(output))
        for m in metrics.values():
            self.stdout.write(format_metrics(m))
            self.stdout.write(f"complaint recall: {m.recall_score('intent', 'complaint')}\n")
        where = "not written (dry run)" if dry_run else f"written to {output}"
        self.stdout.write(f"model: {text.count(chr(10)) - 1} features, {len(text)} bytes, {where}")
