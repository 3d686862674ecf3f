"""A Spanish reader walks the pages in Chromium: a failed send on a ticket, the pipeline
after a drag, the support report and the demo's names. No English sentence of the
interface is left on any of them: every multi-word message of the catalogue whose
Spanish differs is looked for in the page's visible text (the list of untranslated
strings the test prints when it fails)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Purchase
from crm.models import OutboundMessage
from support.models import Team
from support.services import tickets_open_for_entries
from tests.crm.unreachable import closed_port
from tests.factories import ContactFactory, SocialAccountFactory, UserFactory, complaint_entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PO = Path(__file__).resolve().parents[2] / "locale/es/LC_MESSAGES/django.po"


def _english_sentences() -> list[str]:
    """The interface's English messages of two words or more, without placeholders,
    whose Spanish is different: none of them may show on a Spanish page."""
    found = set()
    for entry in polib.pofile(str(PO)):
        for english, spanish in [(entry.msgid, entry.msgstr), (entry.msgid_plural, "")]:
            spanish = spanish or " ".join(entry.msgstr_plural.values())
            if not english or english == spanish or re.search(r"[%{}<>]", english):
                continue
            if len(english.split()) >= 2 and len(english) >= 8:
                found.add(english.strip())
    return sorted(found)


ENGLISH = _english_sentences()


#: The page's visible text, less what is marked as in another language (a canned
#: answer in English is offered, under its language, for an English-speaking customer).
VISIBLE_SPANISH = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll("[lang]:not([lang|=es])").forEach((el) => el.remove());
  body.querySelectorAll("script, style, template").forEach((el) => el.remove());
  return body.textContent.replace(/\\s+/g, " ");
}"""


def _untranslated(text: str) -> list[str]:
    return [english for english in ENGLISH if english in text]


def _text(page) -> str:
    return page.evaluate(VISIBLE_SPANISH)


@pytest.fixture
def spanish(page):
    page.context.set_extra_http_headers({"Accept-Language": "es"})
    return page


def test_a_spanish_reader_sees_no_english_on_the_pages_of_this_round(
    spanish, page, live_server, login
):
    Team.objects.get_or_create(is_default=True, defaults={"name": "Soporte"})
    sofia = UserFactory(username="sofia", role="Manager", is_staff=True)
    # A Bluesky account whose server refuses connections: a send fails before it leaves.
    account = SocialAccountFactory(
        network="bluesky",
        handle="marca.bsky.social",
        base_url=f"http://127.0.0.1:{closed_port()}",
        credentials={"app_password": "clave"},
    )
    now = timezone.now()
    tickets = []
    for days_ago, text in [
        (3, "@marca.bsky.social me habéis cobrado dos veces la factura"),
        (1, "@marca.bsky.social sin internet desde ayer en Chamberí, ¡una vergüenza!"),
    ]:
        customer = ContactFactory(display_name="Lucía Gómez", stage=2, language="es", owner=sofia)
        Purchase.objects.create(
            contact=customer, amount=Decimal("30.00"), product="Fibra", purchased_at=now
        )
        entry = complaint_entry(
            contact=customer,
            account=account,
            text=text,
            language="es",
            occurred_at=now - timedelta(days=days_ago),
        )
        tickets += tickets_open_for_entries(entries=[entry])
    lead = ContactFactory(display_name="Mateo Ruiz", stage=1, language="es", owner=sofia)

    login("sofia")
    # The ticket: a reply that cannot reach Bluesky says so, in Spanish, with its actions.
    page.goto(f"{live_server.url}/support/tickets/{tickets[0].pk}/")
    page.fill("#id_text", "Lo sentimos, lo revisamos ahora mismo")
    page.get_by_role("button", name="Enviar", exact=True).click()
    message = OutboundMessage.objects.get()
    page.goto(f"{live_server.url}/support/tickets/{tickets[0].pk}/")
    box = page.locator(f"#outbound-{message.pk}")
    expect(box.locator(".send-failure")).to_have_text(
        "No se pudo contactar con Bluesky; no se publicó nada."
    )
    expect(box.get_by_role("button", name="Reintentar")).to_be_visible()
    expect(box.get_by_role("link", name="Editar y reenviar")).to_be_visible()
    assert (message.state, message.failure) == ("failed", "unreachable")
    pages = {"ticket": _text(page)}

    # The pipeline: a drag updates both columns' totals, in Spanish.
    page.goto(f"{live_server.url}/contacts/pipeline/")
    expect(page.locator("#totals-2")).to_contain_text("2 contactos")
    page.locator(f"#card-{lead.pk} .muted").first.drag_to(
        page.locator(f"#column-2 #card-{tickets[0].contact_id}"),
        target_position={"x": 20, "y": 10},
    )
    expect(page.locator("#totals-2")).to_contain_text("3 contactos", timeout=10000)
    expect(page.locator("#totals-1")).to_contain_text("0 contactos")
    expect(page.locator("#totals-2")).to_contain_text("Compras:")
    pages["pipeline"] = _text(page)

    # The support report: topics in Spanish words, brand names, days as a chart and table.
    page.goto(f"{live_server.url}/support/reports/")
    topics = page.locator("#top-topics")
    expect(topics).to_contain_text("factura")
    expect(topics).to_contain_text("cobro o envío duplicado")
    expect(topics).not_to_contain_text("bsky")
    expect(page.locator("table.list").last).to_contain_text("Bluesky")
    labels = page.evaluate(
        "Chart.getChart(document.getElementById('chart-by-day')).data.labels.length"
    )
    assert labels >= 30  # every day of the period, quiet ones at zero
    page.get_by_text("Ver como tabla").click()
    # Both tickets were opened today (when Momento saw their messages).
    expect(page.locator("#by-day-table tbody tr")).to_have_count(1)
    expect(page.locator("#by-day-table tbody td").last).to_have_text("2")
    pages["report"] = _text(page)

    page.goto(f"{live_server.url}/")
    pages["home"] = _text(page)
    page.goto(f"{live_server.url}/support/")
    pages["queue"] = _text(page)

    left = {name: _untranslated(text) for name, text in pages.items()}
    assert left == {name: [] for name in pages}, left
    assert len(ENGLISH) > 200  # the list really holds the catalogue
