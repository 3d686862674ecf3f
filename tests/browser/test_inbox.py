import pytest
from playwright.sync_api import expect

from crm.models import OutboundMessage
from tests.crm.helpers import connect_mastodon, ingest_from_peer
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.peers, pytest.mark.django_db(transaction=True)]


def test_support_replies_from_the_inbox(page, live_server, login, mastodon_server):
    """A support agent answers a Mastodon mention inline; the sent reply shows in place
    and reaches the instance once."""
    manager = UserFactory(username="marta", role="Manager")
    UserFactory(username="sofia", role="Support")
    alice = connect_mastodon(mastodon_server, "alice", actor=manager)
    bob = mastodon_server.client("bob")
    question = bob.status_post("@alice <script>window.__pwned = true</script> is it broken?")
    [entry] = ingest_from_peer(alice)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    login("sofia")
    page.goto(f"{live_server.url}/inbox/")
    item = page.locator(f"#inbox-{entry.pk}")
    expect(item.locator(".text")).to_contain_text("<script>window.__pwned = true</script>")
    item.get_by_role("button", name="Assign to me").click()
    expect(item.locator(".assignee")).to_have_text("assigned to sofia")
    item.locator("textarea").fill("Not broken: restart the router, please.")
    item.get_by_role("button", name="Send").click()
    sent = item.locator(".outbound")
    expect(sent.locator(".state")).to_have_text("Sent", timeout=15000)
    expect(sent.locator(".text")).to_have_text("Not broken: restart the router, please.")
    # A fresh form replaces the one that was sent.
    expect(item.locator("textarea")).to_have_value("")

    message = OutboundMessage.objects.get()
    assert message.state == "sent"
    statuses = mastodon_server.client("alice").account_statuses(
        mastodon_server.client("alice").me()["id"]
    )
    assert [s["in_reply_to_id"] for s in statuses] == [question["id"]]
    assert page.locator("#inbox-items script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []
