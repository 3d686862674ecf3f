import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<script>window.__pwned = true</script><img src=x onerror="window.__pwned = true">'


def test_login_open_contact_and_hostile_text_does_not_run(page, live_server, login):
    UserFactory(username="ana", role="Sales")
    contact = ContactFactory(display_name="Lucía 😡 <b>Pérez</b>")
    SocialIdentityFactory(contact=contact, handle="lucia.bsky.social")
    TimelineEntryFactory(contact=contact, text=XSS + " \u202eRTL\u202c " + "long " * 1000)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    login("ana")
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    assert page.locator("h1").inner_text().startswith("Lucía 😡 <b>Pérez</b>")
    assert page.get_by_text("@lucia.bsky.social").is_visible()
    post = page.locator(".timeline .entry .text").first
    assert "<script>window.__pwned = true</script>" in post.inner_text()
    assert page.locator(".timeline script").count() == 0
    assert page.locator(".timeline img").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []


def test_timeline_loads_more_when_scrolled(page, live_server, login):
    UserFactory(username="ana", role="Sales")
    contact = ContactFactory()
    TimelineEntryFactory.create_batch(70, contact=contact)
    login("ana")
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    expect(page.locator(".timeline .entry")).to_have_count(50)
    page.mouse.wheel(0, 200_000)  # scroll to the end: the sentinel is revealed
    # The CSP forbids eval, so poll with locators rather than wait_for_function.
    expect(page.locator(".timeline .entry")).to_have_count(70, timeout=10000)
    assert page.locator("#timeline-more").count() == 0


def test_language_switcher(page, live_server, login):
    UserFactory(username="ana", role="Sales")
    login("ana")
    page.goto(f"{live_server.url}/contacts/")
    page.select_option("#language-select", "es")
    page.wait_for_selector("text=Contactos")
    assert page.locator("html").get_attribute("lang") == "es"
