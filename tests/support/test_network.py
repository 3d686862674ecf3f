"""The network leg, against real local peers: mastodon-mock and the local Bluesky
network (its chat service does not exist locally, so Bluesky DMs run on recorded
chat.bsky responses).

Sync opens tickets by itself: ingest sends ``core.signals.entries_ingested`` and the
support app runs its ticket rules on each stored page (support/apps.py).
"""

from __future__ import annotations

import itertools
import json
import re

import httpx
import pytest
import respx
from atproto import client_utils

from contacts.models import Contact, SocialIdentity, TimelineEntry
from contacts.services import contact_change_stage
from crm.models import OutboundMessage, SocialAccount
from crm.networks.mastodon import html_to_text
from crm.sync import sync_account_run
from support.models import Incident, Status, Ticket
from support.services import (
    incident_link,
    incident_post_statement,
    ticket_handoff,
    tickets_open_for_entries,
)
from support.tasks import incident_statement_send
from tests.conftest import api_as
from tests.factories import SupportAgentFactory

pytestmark = [pytest.mark.peers, pytest.mark.django_db]


def sync(account: SocialAccount) -> list[Ticket]:
    """Sync the account; return the tickets its new items opened or joined."""
    created: list[int] = []

    def after_page(stream, page, stats):
        created.extend(stats.created_ids)

    sync_account_run(account_id=account.pk, progress=after_page)
    return list(Ticket.objects.filter(links__entry_id__in=created).distinct().order_by("pk"))


@pytest.fixture
def brand(mastodon_server):
    return SocialAccount.objects.create(
        network="mastodon",
        handle="alice",
        base_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.tokens["alice"]},
    )


def _become_customer(mastodon_server, brand, manager, username: str) -> Contact:
    """The person follows the brand (synced: stage 1), then buys (stage 2)."""
    client = mastodon_server.client(username)
    alice = client.account_lookup("alice")
    client.account_follow(alice["id"])
    sync(brand)
    identity = SocialIdentity.objects.get(network="mastodon", handle__startswith=f"{username}@")
    contact_change_stage(contact=identity.contact, stage=2, actor=manager, reason="Bought fibre")
    return identity.contact


def _alice_statuses_to(mastodon_server, username: str) -> list[dict]:
    """Statuses from alice that mention ``username``, as the person's server sees them."""
    client = mastodon_server.client(username)
    notes = client.notifications(types=["mention"], limit=80)
    return [n["status"] for n in notes if n["account"]["acct"] == "alice"]


def test_done_when_complaint_to_csat_on_the_report(
    mastodon_server, brand, manager, support, team, client, django_capture_on_commit_callbacks
):
    """A complaint posted on the local Mastodon server opens a ticket, is assigned, gets
    a canned public answer and a DM in one action, is resolved, and its author gets a
    CSAT link in the DM thread whose answer shows on the report."""
    SupportAgentFactory(user=support, team=team)
    team.phone = "+34 900 100 200"
    team.save()
    customer = _become_customer(mastodon_server, brand, manager, "bob")
    bob = mastodon_server.client("bob")
    complaint = bob.status_post(
        "@alice my fibre internet has been down since this morning and nobody answers!! 😡"
    )

    [ticket] = sync(brand)
    assert ticket.contact == customer and ticket.opened_by_rule
    assert ticket.assignee == support and ticket.account == brand
    entry = ticket.interactions.get()
    assert (entry.language, entry.intent, entry.sentiment) == ("en", "complaint", "negative")

    client.force_login(support)
    page = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "+34 900 100 200" in page  # the canned DM, filled in
    form = re.search(r'name="public_text"[^>]*>\s*(.*?)</textarea>', page, re.S)
    dm_form = re.search(r'name="dm_text"[^>]*>\s*(.*?)</textarea>', page, re.S)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/support/tickets/{ticket.pk}/handoff/",
            {"public_text": _unescape(form.group(1)), "dm_text": _unescape(dm_form.group(1))},
        )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        ticket_handoff(ticket=ticket, user=support)  # a second click sends nothing more

    statuses = _alice_statuses_to(mastodon_server, "bob")
    public = [s for s in statuses if s["visibility"] == "public"]
    direct = [s for s in statuses if s["visibility"] == "direct"]
    assert len(public) == 1 and len(direct) == 1
    assert str(public[0]["in_reply_to_id"]) == str(complaint["id"])
    assert "+34 900 100 200" in html_to_text(direct[0]["content"])
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.sla_running_since is not None
    assert ticket.first_response_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        resolved = api_as(support).post(
            f"/api/v1/tickets/{ticket.pk}/resolve/", {"message": "All fixed now."}, format="json"
        )
    assert resolved.json()["status"] == "resolved"
    link_text = next(
        html_to_text(s["content"])
        for s in _alice_statuses_to(mastodon_server, "bob")
        if s["visibility"] == "direct" and "/support/csat/" in html_to_text(s["content"])
    )
    path = re.search(r"(/support/csat/[^/\s]+/)", link_text).group(1)
    assert OutboundMessage.objects.filter(state="sent").count() == 4  # ack, DM, final, CSAT

    customer_browser = client.__class__()
    assert b"How did we do?" in customer_browser.get(path).content
    customer_browser.post(path, {"rating": "5", "comment": "Fast and kind"})
    assert b"Already answered" in customer_browser.get(path).content

    report = api_as(manager).get("/api/v1/reports/support/").json()
    assert report["csat"] == {
        "answers": 1,
        "average": 5.0,
        "satisfied_percent": 100.0,
        "distribution": [{"rating": r, "answers": int(r == 5)} for r in range(1, 6)],
    }
    assert report["by_network"] == [{"network": "mastodon", "tickets": 1}]
    client.force_login(manager)
    assert "Fast and kind" in client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert client.get("/support/reports/").status_code == 200
    admin = client.get(f"/admin/support/ticket/{ticket.pk}/change/").content.decode()
    assert "All fixed now." in admin
    timeline = client.get(f"/contacts/{customer.pk}/").content.decode()
    assert "5/5" in timeline and "Moved to a direct message" in timeline


def _unescape(text: str) -> str:
    import html

    return html.unescape(text).strip()


@pytest.mark.parametrize("mastodon_accounts", [["alice", "bob", "carol", "dave"]], indirect=True)
def test_incident_statement_is_posted_once_per_complaint_when_the_worker_retries(
    mastodon_server, brand, manager, support, team, django_capture_on_commit_callbacks
):
    for name in ("bob", "carol", "dave"):
        _become_customer(mastodon_server, brand, manager, name)
    for name in ("bob", "carol", "dave"):
        mastodon_server.client(name).status_post(
            f"@alice no internet in Madrid, fibre down ({name})"
        )
    tickets = sync(brand)
    assert len(tickets) == 3
    incident = Incident.objects.first() or Incident.objects.create(title="Madrid", team=team)
    incident_link(incident=incident, tickets=tickets)
    with django_capture_on_commit_callbacks(execute=True):
        incident_post_statement(incident=incident, text="Madrid fibre outage: on it.", user=support)
    # The broker redelivers the task (the worker died before acknowledging it).
    with django_capture_on_commit_callbacks(execute=True):
        incident_statement_send.apply(args=(incident.pk, support.pk))
    for name in ("bob", "carol", "dave"):
        statements = [
            s
            for s in _alice_statuses_to(mastodon_server, name)
            if "on it" in html_to_text(s["content"])
        ]
        assert len(statements) == 1, name
    assert OutboundMessage.objects.filter(state="sent").count() == 3


# --- Bluesky ---------------------------------------------------------------------------

CHAT = re.compile(r".*/xrpc/chat\.bsky\..*")


def _recorded_chat(customer_did: str, brand_did: str):
    """chat.bsky responses as the real chat service sends them (recorded shapes)."""
    sent: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
        method = request.url.path.rsplit("/", 1)[-1]
        convo = {
            "id": "3ktest7convo2a",
            "rev": "2222222222222",
            "members": [
                {"did": brand_did, "handle": "brand.test"},
                {"did": customer_did, "handle": "customer.test"},
            ],
            "muted": False,
            "unreadCount": 0,
        }
        if method == "chat.bsky.convo.listConvos":
            return httpx.Response(200, json={"convos": []})
        if method == "chat.bsky.convo.getConvoForMembers":
            assert request.url.params.get_list("members") == [customer_did]
            return httpx.Response(200, json={"convo": convo})
        if method == "chat.bsky.convo.sendMessage":
            body = json.loads(request.content)
            sent.append(body)
            return httpx.Response(
                200,
                json={
                    "id": f"3ktestmsg{len(sent)}",
                    "rev": "2222222222223",
                    "text": body["message"]["text"],
                    "sender": {"did": brand_did},
                    "sentAt": "2026-01-05T10:00:00.000Z",
                },
            )
        return httpx.Response(501, json={"error": "MethodNotImplemented"})

    return sent, handler


def test_bluesky_handoff_one_public_reply_and_a_dm(
    bsky, manager, support, team, django_capture_on_commit_callbacks
):
    brand_acc = bsky.create_account("brand")
    customer_acc = bsky.create_account("cust")
    brand = SocialAccount.objects.create(
        network="bluesky",
        handle=brand_acc.handle,
        external_id=brand_acc.did,
        base_url=bsky.pds_url,
        credentials={"app_password": brand_acc.app_password},
    )
    customer = bsky.client(customer_acc.handle, customer_acc.app_password)
    text = (
        client_utils.TextBuilder()
        .mention(f"@{brand_acc.handle}", brand_acc.did)
        .text(" my order never arrived and nobody answers, terrible service!")
    )
    complaint = customer.send_post(text)
    bsky.process()

    sent, handler = _recorded_chat(customer_acc.did, brand_acc.did)
    with respx.mock(assert_all_called=False) as router:
        router.route(url__regex=CHAT).mock(side_effect=handler)
        router.route().pass_through()
        sync(brand)
        entry = TimelineEntry.objects.get(external_id=complaint.uri)
        contact_change_stage(contact=entry.contact, stage=2, actor=manager, reason="Customer")
        [ticket] = tickets_open_for_entries(entries=[entry])
        with django_capture_on_commit_callbacks(execute=True):
            ticket_handoff(ticket=ticket, user=support)
            ticket_handoff(ticket=ticket, user=support)
    reply = OutboundMessage.objects.get(kind="reply")
    assert reply.state == "sent", reply.last_error
    bsky.process()
    thread = customer.get_post_thread(complaint.uri, depth=2).thread
    replies = [r.post for r in (thread.replies or []) if r.post.author.did == brand_acc.did]
    assert [r.uri for r in replies] == [reply.external_id]
    assert len(sent) == 1 and sent[0]["convoId"] == "3ktest7convo2a"
    dm = OutboundMessage.objects.get(kind="dm")
    assert dm.state == "sent" and dm.entry.thread_id == "3ktest7convo2a"
    assert dm.ticket_reply.ticket == ticket


def test_mastodon_dm_thread_holds_the_complaint_dm_handoff_closing_message_and_csat(
    mastodon_server, brand, manager, support, team, django_capture_on_commit_callbacks
):
    """Issue 10 item 3: every DM Momento sends on a ticket continues the customer's own
    conversation (``in_reply_to_id`` = the thread's latest status, visibility direct), so
    the customer's server shows one conversation with the complaint's DM, the handoff,
    the closing message and the CSAT link, each answering the one before."""
    SupportAgentFactory(user=support, team=team)
    _become_customer(mastodon_server, brand, manager, "bob")
    bob = mastodon_server.client("bob")
    complaint = bob.status_post("@alice my fibre has been down since this morning, awful!")
    complaint_dm = bob.status_post(
        "@alice my customer number is 4471, please call me", visibility="direct"
    )
    tickets = sync(brand)
    [ticket] = {t.pk: t for t in tickets}.values()
    assert ticket.interactions.filter(kind="dm").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        ticket_handoff(ticket=ticket, user=support, dm_text="We are on it, Bob.")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(support).post(
            f"/api/v1/tickets/{ticket.pk}/resolve/", {"message": "All fixed now."}, format="json"
        )
    assert response.status_code == 200, response.content
    sent = OutboundMessage.objects.filter(kind="dm").order_by("pk")
    assert [m.state for m in sent] == ["sent", "sent", "sent"], [m.last_error for m in sent]

    conversations = [
        c for c in bob.conversations() if any(a["acct"] == "alice" for a in c["accounts"])
    ]
    assert len(conversations) == 1
    last = conversations[0]["last_status"]
    thread = [*bob.status_context(last["id"])["ancestors"], last]
    texts = [html_to_text(s["content"]) for s in thread]
    assert [s["visibility"] for s in thread] == ["direct"] * 4
    assert str(thread[0]["id"]) == str(complaint_dm["id"])
    assert "We are on it, Bob." in texts[1]
    assert "All fixed now." in texts[2]
    assert "/support/csat/" in texts[3]
    for parent, child in itertools.pairwise(thread):
        assert str(child["in_reply_to_id"]) == str(parent["id"])
    assert str(complaint["id"]) not in {str(s["id"]) for s in thread}
    # What Momento stored says the same: one thread, each DM answering the one before.
    ours = [m.entry for m in sent]
    assert [e.in_reply_to for e in ours] == [
        TimelineEntry.objects.get(kind="dm", direction="in").external_id,
        ours[0].external_id,
        ours[1].external_id,
    ]
