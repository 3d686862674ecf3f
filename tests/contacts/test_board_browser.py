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


def test_a_drag_updates_both_columns_totals(page, live_server, login):  # noqa: F811
    """Each column shows its count and the value of its contacts' purchases; dropping a
    card on another column changes both, with no reload and no CSP report."""
    from decimal import Decimal

    from django.utils import timezone

    from contacts.models import Purchase

    ana = UserFactory(username="ana", role="Sales")
    now = timezone.now()
    mover = ContactFactory(display_name="Mover Person", stage=0, owner=ana)
    Purchase.objects.create(
        contact=mover, amount=Decimal("120.00"), product="Fibre", purchased_at=now
    )
    ContactFactory(display_name="Stays Put", stage=0, owner=ana)
    lead = ContactFactory(display_name="Old Lead", stage=1, owner=ana)
    Purchase.objects.create(contact=lead, amount=Decimal("30.25"), product="TV", purchased_at=now)
    ContactFactory(display_name="Someone Else's", stage=1)  # filtered out by "Me"
    csp = []
    page.on(
        "console",
        lambda msg: (
            csp.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login("ana")
    page.goto(f"{live_server.url}/contacts/pipeline/")
    page.select_option("#owner", "me")
    page.wait_for_url("**/contacts/pipeline/?*owner=me*")
    expect(page.locator("#column-1 .pipeline-card")).to_have_count(1)
    expect(page.locator("#totals-0")).to_contain_text("2 contacts")
    expect(page.locator("#totals-0")).to_contain_text("120.00 EUR")
    expect(page.locator("#totals-1")).to_contain_text("1 contact")
    expect(page.locator("#totals-1")).to_contain_text("30.25 EUR")
    page.evaluate("window.notReloaded = true")

    page.locator(f"#card-{mover.pk} .muted").first.drag_to(page.locator("#column-1"))
    expect(page.locator(f"#column-1 #card-{mover.pk}")).to_be_visible(timeout=10000)
    expect(page.locator("#totals-1")).to_contain_text("2 contacts", timeout=10000)
    expect(page.locator("#totals-1")).to_contain_text("150.25 EUR")
    expect(page.locator("#totals-0")).to_contain_text("1 contact")
    expect(page.locator("#totals-0")).not_to_contain_text("EUR")
    expect(page.locator("#totals-2")).to_contain_text("0 contacts")
    assert page.evaluate("window.notReloaded") is True

    # Onto the empty column: its "Nobody here." goes, its totals come.
    expect(page.locator("#column-2 li.empty")).to_have_count(1)
    page.locator(f"#card-{mover.pk} .muted").first.drag_to(page.locator("#column-2"))
    expect(page.locator("#totals-2")).to_contain_text("1 contact", timeout=10000)
    expect(page.locator("#totals-2")).to_contain_text("120.00 EUR")
    expect(page.locator("#totals-1")).to_contain_text("1 contact")
    expect(page.locator("#column-2 li.empty")).to_have_count(0)
    assert page.locator("#totals-1").get_attribute("style") is None
    assert csp == [] and errors == []
