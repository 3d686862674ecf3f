"""Every UI string ships in Spanish, and the compiled catalogue matches the source."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale/es/LC_MESSAGES"


def test_every_spanish_message_is_translated():
    po = polib.pofile(str(LOCALE / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == []
    assert len(po) > 100


def test_compiled_catalogue_is_current():
    po = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.pofile(str(LOCALE / "django.po"))
        if e.translated()
    }
    mo = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.mofile(str(LOCALE / "django.mo"))
        if e.msgid
    }
    assert po == mo, "run `make messages` (compilemessages) after editing django.po"
