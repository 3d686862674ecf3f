"""``python manage.py classify_corrections [--output FILE]``: agents' label corrections as
a training CSV (text,language,intent,sentiment), for ``classify_train --corrections``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from contacts.services import label_corrections_csv


class Command(BaseCommand):
    help = "Export agents' label corrections (latest per entry) as a training CSV."

    def add_arguments(self, parser):
        parser.add_argument("--output", default="-", help="file to write (default: stdout)")

    def handle(self, *args, output: str, **options):
        text = label_corrections_csv()
        rows = text.count("\n") - 1
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"{rows} corrections written to {output}")
