"""The conversation inbox: one row per person and network, the whole thread in order,
one answer box, handled / assign / ticket on the whole conversation."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import TimelineEntry, timeline_event_record
from crm.models import OutboundMessage
from support.models import CannedResponse, Ticket
from support.services import team_default
from support.templatetags.support_tags import thread_message
from tests.factories import (
    ContactFactory,
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _say(account, identity, *, minutes_ago=0, kind="mention", **kw):
    return TimelineEntryFactory(
        contact=identity.contact,
        identity=identity,
        account=account,
        network=account.network,
        kind=kind,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kw,
    )


def _thread_url(contact, network="mastodon", name="inbox:thread"):
    return reverse(name, kwargs={"contact_id": contact.pk, "network": network})


def _rows(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('class="conv-row')[1:]]


def _keys(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-key="')[1:] if "-" in part[:30]]


def test_one_row_per_person_and_network_with_counts(client, support, account, customer):
    """Three items from one person on one network are one conversation; its row says
    how many wait; mine / unassigned filters and counts follow the assignment."""
    lucia = customer.identities.get()
    _say(account, lucia, minutes_ago=30, text="first")
    _say(account, lucia, minutes_ago=20, text="second", kind="reply")
    _say(account, lucia, minutes_ago=10, text="third, by DM", kind="dm")
    other = SocialIdentityFactory(network="mastodon", handle="pedro")
    pedro_item = _say(account, other, minutes_ago=5, text="from pedro")
    # Handled items do not count.
    _say(account, other, minutes_ago=50, text="old", handled_at=timezone.now())
    pedro_item.assigned_to = support
    pedro_item.save()

    client.force_login(support)
    html = client.get(reverse("inbox:list")).content.decode()
    keys = [k for k in _keys(html) if k[0].isdigit()]
    assert keys[:2] == [f"{other.contact_id}-mastodon", f"{customer.pk}-mastodon"]
    assert len(_rows(html)) == 2
    assert 'class="badge unread" title="Waiting items">3<' in html
    assert 'id="count-all">2<' in html
    assert 'id="count-mine">1<' in html
    assert 'id="count-unassigned">1<' in html

    mine = client.get(reverse("inbox:list"), {"show": "mine"}).content.decode()
    assert len(_rows(mine)) == 1 and "from pedro" in mine
    unassigned = client.get(reverse("inbox:list"), {"show": "unassigned"}).content.decode()
    assert len(_rows(unassigned)) == 1 and "third, by DM" in unassigned


def test_list_pages_with_a_cursor_and_rejects_a_forged_one(client, support, account):
    identities = [SocialIdentityFactory(network="mastodon") for _ in range(5)]
    for i, identity in enumerate(identities):
        _say(account, identity, minutes_ago=i)
        # Older items of the same conversations, below the later pages' cursors.
        _say(account, identity, minutes_ago=100 + i)
    client.force_login(support)
    from support import inbox

    inbox.PAGE_SIZE, old = 2, inbox.PAGE_SIZE
    try:
        seen = []
        url = reverse("inbox:list")
        response = client.get(url)
        for _ in range(5):
            html = response.content.decode()
            seen += [k for k in _keys(html) if k[0].isdigit()]
            if 'id="conv-more"' not in html:
                break
            more = html.split('id="conv-more"')[1]
            response = client.get(url, {"cursor": more.split("cursor=")[1].split('"')[0]})
        assert seen == [f"{i.contact_id}-mastodon" for i in identities]
    finally:
        inbox.PAGE_SIZE = old
    assert client.get(url, {"cursor": "not-a-cursor"}).status_code == 404
    assert client.get(url, {"cursor": "WyJ4IiwieSJd"}).status_code == 404


def test_thread_shows_everything_in_order(client, support, account, customer):
    """Public post, our reply, the DM that followed, a note, a ticket event and what is
    still in the outbox, oldest first; another network's items stay out."""
    lucia = customer.identities.get()
    post = _say(account, lucia, minutes_ago=60, text="Public: my router is dead")
    reply = TimelineEntry.objects.create(
        contact=customer,
        kind="reply",
        network="mastodon",
        direction="out",
        account=account,
        text="Our public reply",
        occurred_at=timezone.now() - timedelta(minutes=50),
    )
    _say(account, lucia, minutes_ago=40, text="Private: my account is 123", kind="dm")
    timeline_event_record(
        contact_id=customer.pk,
        kind="note",
        text="Called her back",
        occurred_at=timezone.now() - timedelta(minutes=30),
    )
    ticket = Ticket.objects.create(
        contact=customer, subject="Router", team=team_default(), status="open", network="mastodon"
    )
    timeline_event_record(
        contact_id=customer.pk,
        kind="ticket",
        subject=ticket,
        raw={"event": "opened", "ticket": ticket.pk, "subject": "Router"},
        occurred_at=timezone.now() - timedelta(minutes=20),
    )
    OutboundMessage.objects.create(
        account=account,
        kind="dm",
        idempotency_key="k1",
        contact=customer,
        in_reply_to=post,
        text="Queued DM",
        state="failed",
        last_error="boom",
    )
    bluesky = SocialAccountFactory(network="bluesky")
    TimelineEntryFactory(contact=customer, account=bluesky, network="bluesky", text="elsewhere")

    client.force_login(support)
    page = client.get(_thread_url(customer)).content.decode()
    html = page.split('id="thread-items"')[1]
    order = [
        "Public: my router is dead",
        "Our public reply",
        "Private: my account is 123",
        "Called her back",
        "Ticket opened",
        "Queued DM",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "elsewhere" not in html
    assert reply.text in html
    # Beside it: stage, score, owner and the open ticket.
    assert 'class="contact-stage">Customer<' in html
    assert f'href="/support/tickets/{ticket.pk}/"' in html.split('class="contact-ticket"')[1]
    # The newest item is a DM, so the answer box answers by DM only.
    choices = html.split('class="choices"')[1].split("</div>")[0]
    assert 'value="1"' in choices and 'value="0"' not in choices


def test_thread_is_not_found_for_a_bad_network_or_contact(client, support, customer):
    client.force_login(support)
    assert client.get(_thread_url(customer, "myspace")).status_code == 404
    assert client.get(reverse("inbox:thread", args=[999999, "mastodon"])).status_code == 404


def test_answer_box_queues_a_public_reply_to_the_newest_item(client, support, account, customer):
    lucia = customer.identities.get()
    _say(account, lucia, minutes_ago=10, text="older")
    newest = _say(account, lucia, minutes_ago=1, text="is it down?")
    client.force_login(support)
    response = client.post(
        _thread_url(customer, name="inbox:answer"),
        {
            "answer-text": "Not down, restart it.",
            "answer-private": "0",
            "answer-idempotency_key": "a1",
        },
        headers={"HX-Request": "true", "HX-Target": "thread"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "conversations-changed"
    message = OutboundMessage.objects.get()
    assert (message.in_reply_to_id, message.kind, message.text) == (
        newest.pk,
        "reply",
        "Not down, restart it.",
    )
    assert "Not down, restart it." in response.content.decode()
    # The same form twice sends once.
    client.post(
        _thread_url(customer, name="inbox:answer"),
        {
            "answer-text": "Not down, restart it.",
            "answer-private": "0",
            "answer-idempotency_key": "a1",
        },
    )
    assert OutboundMessage.objects.count() == 1


def test_answer_errors_are_shown_by_field(client, support, account, customer):
    _say(account, customer.identities.get(), kind="dm")
    client.force_login(support)
    response = client.post(
        _thread_url(customer, name="inbox:answer"),
        {"answer-text": "", "answer-private": "0"},
        headers={"HX-Request": "true", "HX-Target": "thread"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "Select a valid choice" in html  # a DM cannot be answered in public
    assert OutboundMessage.objects.count() == 0


def test_handled_takes_the_whole_conversation_out(client, support, account, customer):
    lucia = customer.identities.get()
    for minutes in (3, 2, 1):
        _say(account, lucia, minutes_ago=minutes)
    client.force_login(support)
    response = client.post(_thread_url(customer, name="inbox:handled"))
    assert response.status_code == 302
    assert TimelineEntry.objects.filter(handled_at__isnull=True, direction="in").count() == 0
    assert TimelineEntry.objects.filter(handled_by=support).count() == 3
    assert _rows(client.get(reverse("inbox:list")).content.decode()) == []


def test_assign_to_me_and_back(client, support, account, customer):
    _say(account, customer.identities.get())
    client.force_login(support)
    client.post(_thread_url(customer, name="inbox:assign"), {"to": "me"})
    assert TimelineEntry.objects.get().assigned_to == support
    client.post(_thread_url(customer, name="inbox:assign"))
    assert TimelineEntry.objects.get().assigned_to is None


def test_one_click_ticket_opens_then_joins(client, support, account, customer, team):
    lucia = customer.identities.get()
    first = _say(account, lucia, minutes_ago=5, text="Internet down")
    client.force_login(support)
    url = _thread_url(customer, name="inbox:ticket")
    html = client.post(url, headers={"HX-Request": "true", "HX-Target": "thread"}).content.decode()
    ticket = Ticket.objects.get()
    assert f"Ticket {ticket.number} opened." in html
    assert list(ticket.interactions.all()) == [first]
    second = _say(account, lucia, minutes_ago=1, text="Still down")
    html = client.post(url, headers={"HX-Request": "true", "HX-Target": "thread"}).content.decode()
    assert f"Added to ticket {ticket.number}." in html
    assert Ticket.objects.count() == 1
    assert set(ticket.interactions.all()) == {first, second}


def test_permissions(client, sales, outsider, account, customer):
    _say(account, customer.identities.get())
    client.force_login(outsider)
    assert client.get(reverse("inbox:list")).status_code == 403
    assert client.get(_thread_url(customer)).status_code == 403
    client.force_login(sales)
    assert client.post(_thread_url(customer, name="inbox:ticket")).status_code == 403
    assert Ticket.objects.count() == 0


def test_poll_answers_204_until_something_new(client, support, account, customer):
    lucia = customer.identities.get()
    _say(account, lucia, minutes_ago=5)
    client.force_login(support)
    html = client.get(_thread_url(customer)).content.decode()
    version = html.split("poll/?v=")[1].split('"')[0]
    poll = _thread_url(customer, name="inbox:poll")
    assert client.get(poll, {"v": version}).status_code == 204
    _say(account, lucia, text="something new arrived")
    response = client.get(poll, {"v": version})
    assert response.status_code == 200
    assert "something new arrived" in response.content.decode()
    assert 'id="thread-items"' in response.content.decode()


def test_poll_of_a_long_thread_sees_what_its_pane_shows(
    client, support, account, customer, monkeypatch
):
    """The version reads only the newest THREAD_LIMIT (+1) entries: beyond them a
    change cannot show, inside them a new item or one handled draws the pane again."""
    from support import conversations

    monkeypatch.setattr(conversations, "THREAD_LIMIT", 3)
    lucia = customer.identities.get()
    oldest = _say(account, lucia, minutes_ago=60, text="oldest")
    shown = [_say(account, lucia, minutes_ago=m, text=f"shown {m}") for m in (30, 20, 10)]
    client.force_login(support)
    html = client.get(_thread_url(customer)).content.decode()
    assert "Older items are on the contact" in html and "oldest" not in html
    version = html.split("poll/?v=")[1].split('"')[0]
    poll = _thread_url(customer, name="inbox:poll")

    TimelineEntry.objects.filter(pk=oldest.pk).update(handled_at=timezone.now())
    assert client.get(poll, {"v": version}).status_code == 204  # out of sight
    TimelineEntry.objects.filter(pk=shown[0].pk).update(handled_at=timezone.now())
    redrawn = client.get(poll, {"v": version})
    assert redrawn.status_code == 200
    assert f'class="msg msg-in handled" id="item-{shown[0].pk}"' in redrawn.content.decode()
    version = redrawn.content.decode().split("poll/?v=")[1].split('"')[0]
    assert client.get(poll, {"v": version}).status_code == 204
    _say(account, lucia, minutes_ago=1, text="newest")
    assert "newest" in client.get(poll, {"v": version}).content.decode()


def test_canned_answers_in_the_contacts_language_first(client, support, account, customer):
    customer.language = "es"
    customer.save()
    _say(account, customer.identities.get(), language="es")
    CannedResponse.objects.create(name="A hello", language="en", body="Hello {contact_name}")
    CannedResponse.objects.create(name="Z hola", language="es", body="Hola {contact_name}")
    client.force_login(support)
    html = client.get(_thread_url(customer)).content.decode()
    picker = html.split('id="canned-pick"')[1].split("</select>")[0]
    assert picker.index("Hola Lucía Gómez") < picker.index("Hello Lucía Gómez")


def test_hostile_text_is_escaped(client, support, account, customer):
    _say(account, customer.identities.get(), text='<script>alert(1)</script><img onerror="x">')
    client.force_login(support)
    for url in (reverse("inbox:list"), _thread_url(customer)):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


HOSTILE = '<script>alert("x")</script>&\'\u202e🙂'


@pytest.mark.parametrize(
    "field", ["author", "handle", "kind", "intent", "assignee", "text", "url", "css", "when", "iso"]
)
def test_a_thread_message_escapes_every_value(field):
    row = {
        "pk": 7,
        "iso": "2026-12-01T10:00:00+00:00",
        "when": "Dec. 1, 2026",
        "text": "router down",
        "author": "",
        "css": "msg-in",
        "kind": "Mention",
        "handle": "ana@example.social" if field != "author" else "",
        "intent": "Complaint",
        "state": "waiting",
        "assignee": "",
        "url": "https://example.social/1",
        field: HOSTILE,
    }
    html = str(thread_message(row))
    assert "<script>" not in html and '"x"' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;\u202e🙂" in html
    assert html.startswith('<li class="msg ') and html.endswith("</li>")


def test_a_thread_messages_labels_follow_the_active_language():
    row = {
        "pk": 1, "iso": "", "when": "", "text": "", "author": "", "css": "msg-in",
        "kind": "DM", "handle": "", "intent": "", "state": "handled", "assignee": "",
        "url": "https://example.social/1",
    }  # fmt: skip
    with translation.override("es"):
        spanish = str(thread_message(row))
    with translation.override("en"):
        english = str(thread_message(row))
    assert "atendido" in spanish and "handled" not in spanish
    assert "handled" in english and "Open on the network" in english
    assert "Open on the network" not in spanish


def _count_queries(client, url, **kw) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **kw).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_stay_constant_as_list_and_thread_grow(client, support, account, team):
    """The list and the thread cost the same number of queries with 2 or 40 rows."""
    client.force_login(support)
    contact = ContactFactory(owner=UserFactory())
    identity = SocialIdentityFactory(contact=contact, network="mastodon")
    ticket = Ticket.objects.create(contact=contact, subject="x", team=team, status="open")

    def grow(n):
        for _ in range(n):
            other = SocialIdentityFactory(network="mastodon")
            _say(account, other, assigned_to=support)
            item = _say(account, identity, kind="dm")
            OutboundMessage.objects.create(
                account=account,
                kind="dm",
                idempotency_key=f"q{item.pk}",
                contact=contact,
                in_reply_to=item,
                text="pending",
            )
            timeline_event_record(contact_id=contact.pk, kind="note", text="n")
            timeline_event_record(
                contact_id=contact.pk, kind="ticket", subject=ticket, raw={"event": "opened"}
            )
        CannedResponse.objects.get_or_create(name=f"c{n}", language="en", body="b")

    htmx = {"headers": {"HX-Request": "true", "HX-Target": "thread"}}
    grow(2)
    small = (
        _count_queries(client, reverse("inbox:list")),
        _count_queries(client, _thread_url(contact), **htmx),
    )
    grow(38)
    large = (
        _count_queries(client, reverse("inbox:list")),
        _count_queries(client, _thread_url(contact), **htmx),
    )
    assert small == large
    assert large[0] <= 11 and large[1] <= 16


def test_thread_reads_no_payload_yet_draws_events_and_names(client, support, account, team):
    """The pane leaves a message's network payload (``raw``) in the database, yet draws
    a ticket event from its own ``raw``, and names the assignee and a note's author
    (their usernames come in one query, not as user rows joined to every entry)."""
    from support.conversations import conversation_thread

    contact = ContactFactory()
    identity = SocialIdentityFactory(contact=contact, network="mastodon", handle="lu")
    big = {"content": "<p>" + "x" * 5000 + "</p>"}
    _say(account, identity, minutes_ago=3, text="router down", raw=big, assigned_to=support)
    ticket = Ticket.objects.create(contact=contact, subject="Router", team=team, status="open")
    timeline_event_record(
        contact_id=contact.pk, kind="ticket", subject=ticket, raw={"event": "escalated"}
    )
    TimelineEntryFactory(
        contact=contact, kind="note", network="", text="called her", created_by=support
    )

    thread = conversation_thread(contact=contact, network="mastodon")
    message = next(i for i in thread.items if i.kind == "mention")
    event = next(i for i in thread.items if i.kind == "ticket")
    assert "raw" in message.get_deferred_fields()
    assert event.raw == {"event": "escalated"}

    client.force_login(support)
    html = client.get(
        _thread_url(contact), headers={"HX-Request": "true", "HX-Target": "thread"}
    ).content.decode()
    assert "Escalated" in html
    assert f"assigned to {support.username}" in html
    assert f"<strong>Note</strong> · {support.username}" in html
    assert "x" * 5000 not in html


def _waiting_pairs(identities, account, **kw):
    """One waiting mention from each identity, in one insert."""
    now = timezone.now()
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            contact_id=identity.contact_id,
            identity=identity,
            account=account,
            network=identity.network,
            kind="mention",
            direction="in",
            external_id=f"w{identity.pk}-{kw.get('assigned_to') and kw['assigned_to'].pk}",
            occurred_at=now - timedelta(minutes=i),
            **kw,
        )
        for i, identity in enumerate(identities)
    )


def test_counts_stop_at_99_plus_and_say_so(client, support, account):
    """From 100 waiting conversations on, a count reads "99+" (titled "At least 99"):
    it is never a number larger than the truth, and the list does not count them all."""
    contacts = ContactFactory.create_batch(101)
    identities = [
        SocialIdentityFactory(contact=c, network="mastodon", external_id=f"x{c.pk}")
        for c in contacts
    ]
    _waiting_pairs(identities, account)
    _waiting_pairs(identities[:3], account, assigned_to=support)
    client.force_login(support)
    html = client.get(reverse("inbox:list")).content.decode()
    assert 'id="count-all" title="At least 99">99+<' in html
    assert 'id="count-mine">3<' in html
    assert 'id="count-unassigned">98<' in html  # 101 minus the 3 with an assigned item
    assert (
        'id="count-all">0<'
        in client.get(reverse("inbox:list"), {"network": "bluesky"}).content.decode()
    )
    # The poll's out-of-band badges say the same.
    polled = client.get(
        reverse("inbox:list"), headers={"HX-Request": "true", "HX-Target": "conv-list"}
    )
    assert 'id="count-all" title="At least 99" hx-swap-oob="true">99+<' in polled.content.decode()
    spanish = client.get(reverse("inbox:list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'title="Al menos 99">99+<' in spanish


def test_unassigned_count_says_at_least_when_it_stops_looking(
    client, support, account, monkeypatch
):
    """The unassigned count skips conversations with an assigned item; past
    COUNT_STEPS of them it shows what it found as a lower bound ("1+")."""
    from support import conversations

    identities = [SocialIdentityFactory(network="mastodon") for _ in range(4)]
    _waiting_pairs(identities, account)
    _waiting_pairs(identities[:2], account, assigned_to=support)  # two taken, two free
    client.force_login(support)
    assert 'id="count-unassigned">2<' in client.get(reverse("inbox:list")).content.decode()
    monkeypatch.setattr(conversations, "COUNT_STEPS", 3)
    html = client.get(reverse("inbox:list")).content.decode()
    assert 'id="count-unassigned" title="At least 1">1+<' in html
    assert 'id="count-all">4<' in html


def test_counts_agree_with_counting_every_item(support, account):
    """The stepping counts give what a pass over every waiting item gives, with
    handled items, reactions, internal events, several networks and assignees."""
    import random

    from support.conversations import BoundedCount, conversation_counts

    rng = random.Random(3)
    other_agent = UserFactory()
    bluesky = SocialAccountFactory(network="bluesky", handle="brand-bsky")
    now = timezone.now()
    entries = []
    for n in range(40):
        contact = ContactFactory()
        for network, acc in (("mastodon", account), ("bluesky", bluesky)):
            if rng.random() < 0.3:
                continue
            identity = SocialIdentityFactory(contact=contact, network=network)
            for j in range(rng.randint(1, 4)):
                entries.append(
                    TimelineEntry(
                        contact=contact,
                        identity=identity,
                        account=acc,
                        network=network,
                        kind=rng.choice(["mention", "reply", "dm", "like", "quote"]),
                        direction=rng.choice(["in", "in", "in", "out"]),
                        external_id=f"agree-{n}-{network}-{j}",
                        occurred_at=now - timedelta(minutes=rng.randint(0, 500)),
                        handled_at=now if rng.random() < 0.2 else None,
                        assigned_to=rng.choice([None, None, support, other_agent]),
                    )
                )
        timeline_event_record(contact_id=contact.pk, kind="note", text="internal")
    TimelineEntry.objects.bulk_create(entries)

    for network in ("", "mastodon", "bluesky"):
        waiting = [
            e
            for e in entries
            if e.direction == "in"
            and e.handled_at is None
            and e.kind in ("mention", "reply", "quote", "dm")
            and (not network or e.network == network)
        ]
        pairs = {(e.contact_id, e.network) for e in waiting}
        taken = {(e.contact_id, e.network) for e in waiting if e.assigned_to is not None}
        mine = {(e.contact_id, e.network) for e in waiting if e.assigned_to == support}
        assert conversation_counts(user=support, network=network) == {
            "all": BoundedCount(len(pairs)),
            "mine": BoundedCount(len(mine)),
            "unassigned": BoundedCount(len(pairs - taken)),
        }


@pytest.mark.parametrize(
    ("language", "ago"),
    [("en", "3\xa0hours, 1\xa0minute ago"), ("es", "hace 3\xa0horas, 1\xa0minuto")],
)
def test_a_rows_time_says_ago_in_the_readers_language(
    client, support, account, customer, language, ago
):
    """ "3 hours" alone reads as a duration; the row says when the person last wrote."""
    _say(account, customer.identities.get(), minutes_ago=181, text="hello?")
    client.force_login(support)
    response = client.get(reverse("inbox:list"), HTTP_ACCEPT_LANGUAGE=language)
    assert ago in response.content.decode()
