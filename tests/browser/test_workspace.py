"""The agent's workspace in a real browser: the conversation inbox driven by keys, the
home page per role, the pipeline's totals, and every main page at phone width."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Purchase
from crm.models import OutboundMessage
from support.models import Ticket
from support.services import team_default
from tests.crm.helpers import connect_mastodon, ingest_from_peer
from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.peers
def test_inbox_thread_reply_and_keys(page, live_server, login, mastodon_server):
    """j opens the conversation, ? lists the keys, r focuses the one answer box, the
    reply reaches the instance once in the right thread, t opens a ticket, e takes the
    conversation out of the list; hostile text stays text."""
    manager = UserFactory(username="marta", role="Manager")
    UserFactory(username="sofia", role="Support")
    alice = connect_mastodon(mastodon_server, "alice", actor=manager)
    bob = mastodon_server.client("bob")
    question = bob.status_post("@alice <script>window.__pwned = true</script> router broken?")
    [entry] = ingest_from_peer(alice)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    login("sofia")
    page.goto(f"{live_server.url}/conversations/")
    row = page.locator(".conv-row").first
    expect(row).to_contain_text("router broken?")
    expect(page.locator(".count-all")).to_have_text("1")
    page.keyboard.press("j")
    thread = page.locator("#thread")
    expect(thread.locator(".msg-in .text")).to_contain_text(
        "<script>window.__pwned = true</script>"
    )
    expect(row).to_have_class("conv-row current")
    assert f"/conversations/{entry.contact_id}/mastodon/" in page.url

    page.keyboard.press("?")
    expect(page.locator("#inbox-keys")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#inbox-keys")).to_be_hidden()

    page.keyboard.press("r")
    textarea = thread.locator(".thread-answer textarea")
    expect(textarea).to_be_focused()
    page.keyboard.type("Restart the router, please.")
    expect(textarea).to_have_value("Restart the router, please.")
    thread.get_by_role("button", name="Send").click()
    expect(thread.locator(".msg-out .text").last).to_have_text(
        "Restart the router, please.", timeout=15000
    )
    expect(thread.locator(".thread-answer textarea")).to_have_value("")

    message = OutboundMessage.objects.get()
    assert (message.state, message.in_reply_to_id) == ("sent", entry.pk)
    me = mastodon_server.client("alice")
    statuses = me.account_statuses(me.me()["id"])
    assert [s["in_reply_to_id"] for s in statuses] == [question["id"]]

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("t")
    expect(thread.locator(".messages")).to_contain_text("opened", timeout=10000)
    ticket = Ticket.objects.get()
    expect(thread.locator(".contact-ticket")).to_contain_text(ticket.number)

    page.keyboard.press("e")
    expect(page.locator(".conv-empty")).to_be_visible(timeout=10000)
    expect(page.locator(".count-all")).to_have_text("0")
    assert page.locator("#thread script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []


def test_open_thread_shows_what_sync_brings(page, live_server, login):
    """A conversation updates while it is open (HTMX polling)."""
    agent = UserFactory(username="sofia", role="Support")
    from tests.factories import SocialAccountFactory

    account = SocialAccountFactory(network="mastodon", base_url="http://127.0.0.1:1")
    identity = SocialIdentityFactory(network="mastodon", handle="lucia")
    TimelineEntryFactory(
        contact=identity.contact,
        identity=identity,
        account=account,
        network="mastodon",
        text="First question",
    )
    login(agent.username)
    page.goto(f"{live_server.url}/conversations/{identity.contact_id}/mastodon/")
    expect(page.locator("#thread .msg-in")).to_have_count(1)
    TimelineEntryFactory(
        contact=identity.contact,
        identity=identity,
        account=account,
        network="mastodon",
        kind="dm",
        text="And a DM that followed",
    )
    expect(page.locator("#thread .msg-in")).to_have_count(2, timeout=15000)
    expect(page.locator("#thread .msg-in").last).to_contain_text("And a DM that followed")


def test_home_per_role(page, live_server, login):
    team = team_default()
    sofia = UserFactory(username="sofia", role="Support")
    ana = UserFactory(username="ana", role="Sales")
    now = timezone.now()
    ticket = Ticket.objects.create(
        contact=ContactFactory(display_name="Lucía"),
        subject="Wifi password",
        team=team,
        status="open",
        assignee=sofia,
        sla_first_response_minutes=60,
        sla_running_since=now - timedelta(minutes=50),
        first_response_due_at=now + timedelta(minutes=10),
    )
    lead = ContactFactory(owner=ana, stage=1, display_name="Old Lead")
    login("sofia")
    support = page.locator("#home-support")
    expect(support).to_contain_text("My open ticket (1)")
    expect(page.locator("#home-sales")).to_have_count(0)
    support.get_by_role("link", name=ticket.number).first.click()
    page.wait_for_url(f"{live_server.url}/support/tickets/{ticket.pk}/")

    page.context.clear_cookies()
    login("ana")
    sales = page.locator("#home-sales")
    expect(sales).to_contain_text("Old Lead")
    sales.get_by_role("link", name="Old Lead").click()
    page.wait_for_url(f"{live_server.url}/contacts/{lead.pk}/")


def test_pipeline_totals(page, live_server, login):
    ana = UserFactory(username="ana", role="Sales")
    for amount in ("100.00", "50.50"):
        Purchase.objects.create(
            contact=ContactFactory(stage=2, owner=ana),
            amount=Decimal(amount),
            product="Fibre",
            purchased_at=timezone.now(),
        )
    ContactFactory(stage=0)
    login("ana")
    page.goto(f"{live_server.url}/contacts/pipeline/")
    expect(page.locator("#totals-2")).to_contain_text("2 contacts")
    expect(page.locator("#totals-2")).to_contain_text("150.50 EUR")
    expect(page.locator("#totals-0")).to_contain_text("1 contact")
    expect(page.locator(".board-column h2").nth(2)).to_have_text("Customer")
    expect(page.locator(".stage-age").first).to_contain_text("in this stage for")


WIDER_THAN_THE_SCREEN = """
Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(-4)
  .map((el) => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right))
"""


CSP_REPORTS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective));
"""


def test_main_pages_fit_a_phone(page, live_server, login):
    """At 390×844, in Spanish, nothing scrolls sideways, no page logs a console error or
    a CSP report, no link on a page answers an error; the error pages and the accounts
    page speak Spanish; the menu collapses behind a button; the inbox shows the list,
    then the thread."""
    manager = UserFactory(username="marta", role="Manager", is_staff=True)
    from support.models import CsatSurvey
    from support.services import csat_link
    from tests.factories import SocialAccountFactory

    account = SocialAccountFactory(
        network="mastodon",
        base_url="http://127.0.0.1:1",
        credentials={"access_token": "t"},
        state="needs_reconnect",
        last_error="401 Client Error: Unauthorized for url: https://mastodon.example/"
        + "api/v1/" * 30,
    )
    identity = SocialIdentityFactory(
        network="mastodon", handle="a.very.long.handle.that.never.ends@mastodon.example.org"
    )
    contact = identity.contact
    contact.display_name = "Lucía Fernández de la Torre y Montenegro"
    contact.email = "lucia.fernandez.de.la.torre.y.montenegro@example-company.com"
    contact.save()
    entry = TimelineEntryFactory(
        contact=contact,
        identity=identity,
        account=account,
        network="mastodon",
        text="x" * 300 + " https://example.com/" + "a" * 200,
    )
    ticket = Ticket.objects.create(
        contact=contact,
        subject="Wifi " * 30,
        team=team_default(),
        status="open",
    )
    for _ in range(3):
        ContactFactory(company="Acme Incorporated International Holdings")
    survey = CsatSurvey.objects.create(ticket=ticket, nonce="n" * 16)
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "django_language", "value": "es", "url": live_server.url}])
    page.add_init_script(CSP_REPORTS)
    errors = []
    page.on(
        "console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None
    )
    login(manager.username)

    menu = page.locator(".menu-toggle")
    expect(menu).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()
    menu.click()
    expect(page.locator("#mainnav")).to_be_visible()

    pages = [
        "/",
        "/conversations/",
        f"/conversations/{contact.pk}/mastodon/",
        "/inbox/",
        "/contacts/",
        f"/contacts/{contact.pk}/",
        "/contacts/pipeline/",
        "/contacts/tasks/",
        "/support/",
        f"/support/tickets/{ticket.pk}/",
        "/campaigns/",
        "/reports/",
        "/support/reports/",
        "/notifications/",
        "/social-accounts/",
        "/admin/",
        csat_link(survey).removeprefix(settings.SITE_URL),
    ]
    too_wide, csp, broken, checked = {}, {}, {}, set()
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            # Name the elements that stick out, for the failure message.
            too_wide[path] = page.evaluate(WIDER_THAN_THE_SCREEN)
        if reports := page.evaluate("window.__csp"):
            csp[path] = reports
        hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]'), (a) => a.href)")
        for href in {h.split("#")[0] for h in hrefs if h.startswith(live_server.url)} - checked:
            checked.add(href)
            status = page.request.get(href, max_redirects=0).status
            if status >= 400:
                broken[href] = (path, status)
    assert too_wide == {}
    assert csp == {}
    assert broken == {}
    assert errors == []

    # What the accounts page says leads in Spanish; the raw error is folded away.
    page.goto(f"{live_server.url}/social-accounts/")
    expect(page.locator(".account .error").first).to_contain_text("vuelve a conectar la cuenta")
    expect(page.locator("details.technical pre")).to_be_hidden()
    # A page that does not exist, in Spanish and the app's layout, at phone width.
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Página no encontrada")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The inbox: the list first, then the thread alone (with a way back).
    page.goto(f"{live_server.url}/conversations/")
    expect(page.locator(".conv-pane")).to_be_visible()
    expect(page.locator(".thread-pane")).to_be_hidden()
    page.locator(".conv-link").first.click()
    expect(page.locator("#thread .msg-in")).to_contain_text("xxx")
    expect(page.locator(".conv-pane")).to_be_hidden()
    expect(page.locator(".thread-head .back")).to_be_visible()
    assert entry.pk
