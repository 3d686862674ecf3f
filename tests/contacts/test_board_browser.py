"""Drag and drop on the pipeline board in a real browser (Sortable + HTMX, no inline JS)."""

import pytest
from playwright.sync_api import expect

from contacts.models import StageChange
from tests.browser.conftest import browser_type_launch_args, login  # noqa: F401 (fixtures)
from tests.factories import ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_drag_a_card_to_the_next_stage(page, live_server, login):  # noqa: F811
    UserFactory(username="ana", role="Sales")
    mover = ContactFactory(display_name="Mover Person")
    lead = ContactFactory(display_name="Already Lead", stage=1)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    csp = []
    page.on(
        "console",
        lambda msg: (
            csp.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    login("ana")
    page.goto(f"{live_server.url}/contacts/pipeline/")
    page.fill("#board-reason", "Asked for prices")
    card = page.locator(f"#card-{mover.pk}")
    expect(card).to_be_visible()
    card.locator(".muted").first.drag_to(page.locator("#column-1"))
    expect(page.locator(f"#column-1 #card-{mover.pk}")).to_be_visible(timeout=10000)
    expect(page.locator(f"#column-1 #card-{mover.pk}.saving")).to_have_count(0, timeout=10000)
    change = StageChange.objects.get(contact=mover)
    assert (change.to_stage, change.reason, change.actor.username) == (1, "Asked for prices", "ana")
    # Sortable's empty style="" is not carried onto the swapped card (the CSP reported it).
    assert page.locator(f"#column-1 #card-{mover.pk}").get_attribute("style") is None
    assert csp == []

    # Someone else moved "Already Lead" meanwhile: the server refuses the same move and
    # the card goes back to where it was, with the reason shown.
    page.goto(f"{live_server.url}/contacts/pipeline/")
    type(mover).objects.filter(pk=lead.pk).update(stage=2)
    page.locator(f"#card-{lead.pk} .muted").first.drag_to(page.locator("#column-2"))
    expect(page.locator("#board-status")).to_have_text(
        "The contact is already at this stage.", timeout=10000
    )
    expect(page.locator(f"#column-1 #card-{lead.pk}")).to_be_visible()
    assert errors == []
