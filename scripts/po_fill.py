"""Fill Spanish translations into locale/es/LC_MESSAGES/django.po from a JSON file of
{"msgid": "msgstr"} pairs (plural entries: {"msgid": ["singular", "plural"]}), then
list the msgids still untranslated. Run after ``manage.py makemessages -l es``. Entries
already translated, and entries with a context, are left as they are.

    python scripts/po_fill.py translations.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale/es/LC_MESSAGES/django.po"


def main(argv: list[str]) -> int:
    po = polib.pofile(str(PO))
    pairs = {}
    for path in argv:
        pairs.update(json.loads(Path(path).read_text()))
    for entry in po:
        # Fill only what is untranslated (or fuzzy) and has no context: a translation in
        # the catalogue (a reviewed wording, a context's gender) is never overwritten.
        if entry.translated() and "fuzzy" not in entry.flags:
            continue
        if entry.msgid in pairs and not entry.msgctxt:
            value = pairs[entry.msgid]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: value[0], 1: value[1]}
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    po.metadata["Language"] = "es"
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.save()
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    for msgid in missing:
        print("untranslated:", msgid)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
