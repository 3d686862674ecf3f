"""Issue 12 build 7: search on the embedded default (SQLite, what ``make run`` uses
without DATABASE_URL) folds accents and case: "lucia" finds "Lucía", "contrasena"
finds "contraseña", in names, handles and what people wrote. Run in a subprocess on a
fresh SQLite file, as a new user's ``make run`` would have it (the suite itself runs on
PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from contacts.search import fold

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
from contacts.models import Contact
from contacts.search import contact_search
from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory

lucia = ContactFactory(display_name="Lucía Pérez", company="Panadería")
SocialIdentityFactory(contact=lucia, network="bluesky", handle="lucía.bsky.social")
wifi = ContactFactory(display_name="Bob")
TimelineEntryFactory(contact=wifi, text="¿Cuál es la CONTRASEÑA del wifi? Los routers fallan")
ContactFactory(display_name="Nobody")

def ids(text):
    found = contact_search(Contact.objects.all(), text).values_list("pk", flat=True)
    return sorted(found)

print(json.dumps({
    "lucia": ids("lucia"), "LUCÍA": ids("LUCÍA"), "panaderia": ids("panaderia"),
    "handle": ids("@lucia.bsky"), "contrasena": ids("contrasena"),
    "Contraseña": ids("Contraseña"), "router": ids("router"), "routers": ids("routers"),
    "nothing": ids("zzz"), "ids": [lucia.pk, wifi.pk],
}))
"""


def test_sqlite_search_folds_accents_and_case(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'momento.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    out = subprocess.run(
        [*manage, "shell", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    lucia, wifi = found["ids"]
    assert found["lucia"] == found["LUCÍA"] == found["panaderia"] == [lucia]
    assert found["handle"] == [lucia]
    assert found["contrasena"] == found["Contraseña"] == [wifi]
    # A substring, not a stem: "router" is inside "routers"; the README says that
    # stemming ("routers" for a text that says "router") needs PostgreSQL.
    assert found["router"] == found["routers"] == [wifi]
    assert found["nothing"] == []


def test_fold():
    assert fold("Lucía PÉREZ") == "lucia perez"
    assert fold("Contraseña") == "contrasena"
    assert fold("Straße") == "strasse"
    assert fold("") == ""
