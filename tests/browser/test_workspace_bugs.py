"""Issue 12 bugs 1 and 2 and honest sends, played in Chromium as an agent would."""

import re

import pytest
from playwright.sync_api import expect

from contacts.models import Tag
from crm.models import OutboundMessage
from support.models import Status, Team
from support.services import ticket_open
from tests.factories import (
    ContactFactory,
    SocialAccountFactory,
    SocialIdentityFactory,
    UserFactory,
    complaint_entry,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(db):
    """A complaint's ticket (the live server's transactional database starts without
    the default team its data migration made)."""
    Team.objects.get_or_create(name="Support", defaults={"is_default": True})
    account = SocialAccountFactory(
        network="mastodon", handle="brand", base_url="http://127.0.0.1:9"
    )
    customer = ContactFactory(display_name="Lucía")
    SocialIdentityFactory(contact=customer, network="mastodon", handle="lucia", external_id="1")
    return ticket_open(contact=customer, entry=complaint_entry(contact=customer, account=account))


def test_bulk_tag_keeps_the_selection_and_tags_every_ticked_contact(page, live_server, login):
    """Bug 1: choosing "Add tag" in the bulk form re-rendered the rows (the filter form
    listened to every select on the page), the ticks vanished and Apply said only
    "This field is required."."""
    UserFactory(username="ana", role="Sales")
    contacts = [ContactFactory(display_name=f"Bulk {n}") for n in range(4)]
    login("ana")
    page.goto(f"{live_server.url}/contacts/")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-result")).to_contain_text(
        "Tick at least one contact in the list first."
    )
    for contact in contacts[:3]:
        page.check(f'input[name=ids][value="{contact.pk}"]')
    page.select_option("#bulk-action", "tag")
    page.wait_for_timeout(500)  # what an HTMX re-render would need to land
    for contact in contacts[:3]:
        expect(page.locator(f'input[name=ids][value="{contact.pk}"]')).to_be_checked()
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-result")).to_contain_text("Tag: Name the tag to add.")
    page.fill("#bulk-tag", "fibra")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("#bulk-result")).to_contain_text("3 contacts updated")
    assert set(Tag.objects.get(name="fibra").contacts.values_list("pk", flat=True)) == {
        c.pk for c in contacts[:3]
    }
    # The filter form still filters on its own selects.
    page.select_option("#stage", "0")
    expect(page).to_have_url(re.compile(r".*/contacts/\?search=&stage=0&"), timeout=5000)


def test_resolve_then_the_status_select_shows_resolved(page, live_server, login, ticket):
    """Bug 2: after "Resolve and ask for a rating" the select showed "New"."""
    UserFactory(username="sofia", role="Support")
    login("sofia")
    page.goto(f"{live_server.url}/support/tickets/{ticket.pk}/")
    page.get_by_role("button", name="Resolve and ask for a rating").click()
    expect(page.locator("select[name=status]")).to_have_value("resolved")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("select[name=status]")).to_have_value("resolved")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_retry_of_a_failed_send_from_the_ticket_page(page, live_server, login, ticket):
    """Bug 4: a failed send shows one sentence, Retry queues it again in place."""
    UserFactory(username="sofia", role="Support")
    login("sofia")
    page.goto(f"{live_server.url}/support/tickets/{ticket.pk}/")
    page.fill("#id_text", "We are on it")
    page.get_by_role("button", name="Send", exact=True).click()
    # The account has no access token: nothing was posted, and the page says why.
    message = OutboundMessage.objects.get()
    page.goto(f"{live_server.url}/support/tickets/{ticket.pk}/")
    box = page.locator(f"#outbound-{message.pk}")
    expect(box.locator(".send-failure")).to_have_text(
        "The Mastodon account @brand needs reconnecting; nothing was posted."
    )
    assert "access token" not in page.content()  # the raw error is for managers
    box.get_by_role("button", name="Retry").click()
    # Retry cannot help until the account is reconnected, and says so in place.
    expect(page.locator(f"#outbound-{message.pk} .errorlist")).to_have_text(
        "This account needs to be reconnected before it can send."
    )
    page.locator(f"#outbound-{message.pk}").get_by_role("link", name="Edit and resend").click()
    expect(page.locator(f"#outbound-{message.pk} textarea[name=text]")).to_have_value(
        "We are on it"
    )
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("failed", 1)
    assert OutboundMessage.objects.count() == 1
