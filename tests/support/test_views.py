"""The support pages: queue, ticket, incidents, testimonials, reports."""

from __future__ import annotations

import re

import pytest

from crm.models import OutboundMessage
from support.models import CannedResponse, Status, Ticket
from support.services import ticket_open, tickets_open_for_entries
from tests.factories import (
    ContactFactory,
    SupportAgentFactory,
    TimelineEntryFactory,
    complaint_entry,
)

pytestmark = pytest.mark.django_db
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="alert(1)">'


def _ticket(customer, account, **kw):
    [ticket] = tickets_open_for_entries(
        entries=[complaint_entry(contact=customer, account=account, **kw)]
    )
    return ticket


def test_queue_query_count_is_constant(
    client, support, team, account, django_assert_max_num_queries
):
    client.force_login(support)
    SupportAgentFactory(team=team)
    ticket_open(contact=ContactFactory(), subject="warm-up")
    client.get("/support/")  # warm the permission cache
    with django_assert_max_num_queries(12) as small:
        assert client.get("/support/").status_code == 200
    for _ in range(60):
        contact = ContactFactory(stage=2)
        tickets_open_for_entries(entries=[complaint_entry(contact=contact, account=account)])
    with django_assert_max_num_queries(12) as big:
        html = client.get("/support/").content.decode()
    assert html.count('<tr class="priority-') == 50 and "Load more" in html
    assert len(small.captured_queries) == len(big.captured_queries)
    assert "left" in html  # time left on each row


def test_queue_views_and_filters(client, support, team, customer, account):
    client.force_login(support)
    mine = _ticket(customer, account)
    mine.assignee = support
    mine.save()
    other = ticket_open(contact=ContactFactory(display_name="Other Person"), subject="Phone line")
    html = client.get("/support/?queue=mine").content.decode()
    assert f'id="ticket-{mine.pk}"' in html and f'id="ticket-{other.pk}"' not in html
    html = client.get("/support/?queue=unassigned").content.decode()
    assert f'id="ticket-{other.pk}"' in html and f'id="ticket-{mine.pk}"' not in html
    html = client.get("/support/?network=mastodon").content.decode()
    assert f'id="ticket-{mine.pk}"' in html and f'id="ticket-{other.pk}"' not in html
    rows = client.get(
        "/support/?priority=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-rows"
    ).content.decode()
    assert "<html" not in rows and f'id="ticket-{other.pk}"' in rows
    assert client.get("/support/?queue=breaching").status_code == 200


def test_bulk_assign_from_the_queue(client, support, team):
    client.force_login(support)
    tickets = [ticket_open(contact=ContactFactory(), subject=f"t{i}") for i in range(3)]
    response = client.post(
        "/support/assign/", {"tickets": [t.pk for t in tickets[:2]], "assignee": support.pk}
    )
    assert response.status_code == 302
    assert list(Ticket.objects.filter(assignee=support).order_by("id")) == tickets[:2]


def test_ticket_page_shows_classification_escapes_text_and_fills_canned(
    client, support, customer, account
):
    client.force_login(support)
    ticket = _ticket(customer, account, text=HOSTILE, language="es")
    CannedResponse.objects.create(
        name="Teléfono",
        language="es",
        body="Hola {contact_name}, llama al {phone} ({ticket_number})",
    )
    ticket.team.phone = "+34 900 000 000"
    ticket.team.save()
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "<script>window.pwned" not in html and "&lt;script&gt;window.pwned=1" in html
    assert 'class="tag intent-complaint"' in html and 'class="tag sentiment-negative"' in html
    assert f"Hola Lucía Gómez, llama al +34 900 000 000 (#{ticket.pk})" in html
    assert 'data-canned-text="' in html and "js/support.js" in html
    # Without JavaScript the link fills the box on the server.
    canned = CannedResponse.objects.get(name="Teléfono")
    html = client.get(f"/support/tickets/{ticket.pk}/?canned={canned.pk}").content.decode()
    assert f"llama al +34 900 000 000 (#{ticket.pk})</textarea>" in html


def test_reply_handoff_and_resolve_from_the_ticket_page(client, support, customer, account):
    client.force_login(support)
    ticket = _ticket(customer, account)
    base = f"/support/tickets/{ticket.pk}"
    assert (
        client.post(f"{base}/reply/", {"kind": "reply", "text": "Looking into it"}).status_code
        == 302
    )
    client.post(f"{base}/handoff/", {"public_text": "DMing you", "dm_text": "Your account number?"})
    client.post(f"{base}/handoff/", {"public_text": "DMing you", "dm_text": "Your account number?"})
    kinds = list(
        OutboundMessage.objects.filter(ticket_reply__ticket=ticket)
        .order_by("id")
        .values_list("kind", "text")
    )
    assert kinds == [
        ("reply", "Looking into it"),
        ("reply", "DMing you"),
        ("dm", "Your account number?"),
    ]
    response = client.post(f"{base}/resolve/", {"message": ""}, follow=True)
    assert b"Ticket resolved" in response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.csat_surveys.count() == 1
    html = client.get(f"{base}/").content.decode()
    assert "Looking into it" in html and "Satisfaction survey" in html


def test_after_resolving_the_status_select_shows_resolved_and_sending_it_back_changes_nothing(
    client, support, customer, account
):
    """Issue 12 bug 2: after "Resolve and ask for a rating" the status select showed "New"
    (resolved was not among its choices), and "Change status" would have reopened it."""
    client.force_login(support)
    ticket = _ticket(customer, account)
    base = f"/support/tickets/{ticket.pk}"
    client.post(f"{base}/resolve/", {"message": ""})
    html = client.get(f"{base}/").content.decode()
    select = re.search(r'<select name="status"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.search(r'<option value="resolved" selected>Resolved</option>', select)
    assert select.count("selected") == 1
    assert '<option value="open">Reopen</option>' in select
    response = client.post(f"{base}/status/", {"status": "resolved"}, follow=True)
    assert response.status_code == 200 and b"already resolved" not in response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.csat_surveys.count() == 1
    # Reopening stays one deliberate choice.
    client.post(f"{base}/status/", {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    html = client.get(f"{base}/").content.decode()
    select = re.search(r'<select name="status"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert '<option value="open" selected>Open</option>' in select and "resolved" not in select


def test_sales_reads_tickets_but_cannot_act(client, sales, customer, account):
    client.force_login(sales)
    ticket = _ticket(customer, account)
    assert client.get(f"/support/tickets/{ticket.pk}/").status_code == 200
    assert (
        client.post(
            f"/support/tickets/{ticket.pk}/reply/", {"kind": "reply", "text": "x"}
        ).status_code
        == 403
    )
    assert client.post("/support/assign/", {"tickets": [ticket.pk]}).status_code == 403


def test_open_ticket_button_on_the_contact_timeline(client, support, customer, account):
    client.force_login(support)
    entry = complaint_entry(contact=customer, account=account, intent="question")
    html = client.get(f"/contacts/{customer.pk}/").content.decode()
    assert f'action="/support/from-entry/{entry.pk}/"' in html
    response = client.post(f"/support/from-entry/{entry.pk}/")
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/support/tickets/{ticket.pk}/"
    assert client.post(f"/support/from-entry/{entry.pk}/")["Location"] == response["Location"]
    html = client.get(f"/contacts/{customer.pk}/").content.decode()
    assert f'href="/support/tickets/{ticket.pk}/"' in html and "Ticket opened" in html


def test_open_ticket_says_it_joined_an_open_ticket_and_lets_the_agent_open_a_new_one(
    client, support, customer, account
):
    """Issue 12 bug 6: "Open ticket" on an unrelated post silently landed in the
    contact's open ticket about something else."""
    client.force_login(support)
    wifi = _ticket(customer, account, text="What is the wifi password of the router?")
    match = complaint_entry(
        contact=customer, account=account, text="Esta noche partido, ¿lo dais?", intent="question"
    )
    response = client.post(f"/support/from-entry/{match.pk}/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/support/tickets/{wifi.pk}/?joined={match.pk}#joined"
    assert f"Added to ticket #{wifi.pk}, which was open for this contact." in html
    assert f'action="/support/from-entry/{match.pk}/split/"' in html
    assert "Esta noche partido" in html
    assert wifi.interactions.count() == 2

    response = client.post(f"/support/from-entry/{match.pk}/split/", follow=True)
    new = Ticket.objects.exclude(pk=wifi.pk).get()
    assert response.redirect_chain[-1][0] == f"/support/tickets/{new.pk}/"
    assert list(new.interactions.all()) == [match]
    assert wifi.interactions.count() == 1
    assert f"New ticket #{new.pk} opened." in response.content.decode()
    timeline = client.get(f"/contacts/{customer.pk}/").content.decode()
    assert "A message moved to a new ticket" in timeline
    # The wifi ticket's only message cannot be split off: it already stands apart.
    only = wifi.interactions.get()
    response = client.post(f"/support/from-entry/{only.pk}/split/", follow=True)
    assert "already apart" in response.content.decode() and Ticket.objects.count() == 2
    # Opening it again goes to its own ticket, with no notice.
    again = client.post(f"/support/from-entry/{match.pk}/")
    assert again["Location"] == f"/support/tickets/{new.pk}/"


def test_reports_page_charts_and_csv(client, manager, customer, account):
    client.force_login(manager)
    _ticket(customer, account)
    html = client.get("/support/reports/").content.decode()
    assert 'id="support-report"' in html and "chart.umd.min.js" in html and "js/support.js" in html
    assert "<script>" not in html.replace(
        '<script id="support-report" type="application/json">', ""
    )
    csv = client.get("/support/reports/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert "network,mastodon,1" in csv.content.decode()
    assert client.get("/support/reports/?from=nope").status_code == 200
    hub = client.get("/reports/").content.decode()
    assert 'href="/support/reports/"' in hub


def test_testimonials_and_incident_pages(
    client, sales, customer, account, django_assert_max_num_queries
):
    client.force_login(sales)
    TimelineEntryFactory(contact=customer, intent="praise", text="You are the best 😍")
    TimelineEntryFactory(contact=customer, intent="complaint", text="awful")
    client.get("/support/testimonials/")
    with django_assert_max_num_queries(8):
        html = client.get("/support/testimonials/").content.decode()
    assert "You are the best 😍" in html and "awful" not in html
    assert client.get("/support/incidents/").status_code == 200


def test_incident_keywords_read_as_words_in_the_readers_language(client, support, team):
    """An incident's keys are shown as a reader says them: a concept in the reader's
    language, a place mark as "in Madrid" (never ``place:madrid``), other words as they
    are, and hostile text escaped."""
    from support.models import Incident

    incident = Incident.objects.create(
        title="Outage", team=team, keywords=["internet", "place:madrid", "<b>x</b>"]
    )
    client.force_login(support)
    html = client.get(f"/support/incidents/{incident.pk}/").content.decode()
    assert "keywords: internet, in Madrid, &lt;b&gt;x&lt;/b&gt;" in html
    assert "place:" not in html
    client.post("/i18n/setlang/", {"language": "es", "next": "/support/"})
    html = client.get(f"/support/incidents/{incident.pk}/").content.decode()
    assert "internet, en Madrid" in html and "place:" not in html


def test_support_desk_in_spanish(client, support, customer, account):
    client.force_login(support)
    client.post("/i18n/setlang/", {"language": "es", "next": "/support/"})
    ticket = _ticket(customer, account)
    html = client.get("/support/").content.decode()
    assert "Cola" in html and "Tiempo restante" in html and "quedan" in html
    # One word for a ticket in Spanish: "caso" (the queue's header said "Ticket").
    assert "<th>Caso</th>" in html and "Ticket" not in html
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "Pasar a mensaje directo" in html and "Queja" in html
    # The built-in rule that opened it, named in Spanish (it is stored in English).
    assert ticket.opened_by_rule == "Complaint from a customer"
    assert "abierto por la regla: Queja de un cliente" in html
    assert "Complaint from a customer" not in html
    # So does the "ticket opened" event on the contact's timeline (and the inbox thread).
    html = client.get(f"/contacts/{customer.pk}/").content.decode()
    assert "regla: Queja de un cliente" in html and "Complaint from a customer" not in html


BIDI_NAME = "Ana \u202egnp.exe\u202c \u2066Gómez\u2069 \u202a\u202b\u202d"


def test_bidi_overrides_in_a_name_are_stripped_from_previews_and_everything_sent(
    client, support, customer, account
):
    """A display name with bidi overrides and isolates (it would read "Ana exe.png…")
    is filled into canned texts, the page's preview and the messages sent without
    them; the name itself is kept as the network sent it."""
    from contacts.models import Contact
    from crm.models import OutboundMessage
    from lib.text import BIDI_CONTROLS
    from support.services import canned_text, ticket_reply

    Contact.objects.filter(pk=customer.pk).update(display_name=BIDI_NAME)
    customer.refresh_from_db()
    ticket = _ticket(customer, account, text="help", language="es")
    CannedResponse.objects.create(
        name="Saludo", language="es", body="Hola {contact_name} \u202e({ticket_number})"
    )
    client.force_login(support)
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "Hola Ana gnp.exe Gómez  (#" in html
    canned = CannedResponse.objects.get(name="Saludo")
    page = client.get(f"/support/tickets/{ticket.pk}/?canned={canned.pk}").content.decode()
    assert f"Hola Ana gnp.exe Gómez  (#{ticket.pk})</textarea>" in page
    text = canned_text(ticket, CannedResponse.Purpose.HANDOFF_DM, user=support)
    ticket_reply(ticket=ticket, kind="reply", text=f"Hi {BIDI_NAME}", user=support)
    ticket_reply(ticket=ticket, kind="dm", text=text, user=support)
    sent = list(OutboundMessage.objects.values_list("text", flat=True))
    assert len(sent) == 2
    for value in [*sent, text]:
        assert not set(map(ord, value)) & set(BIDI_CONTROLS), ascii(value)
    assert "Hi Ana gnp.exe Gómez" in sent[0] or "Hi Ana gnp.exe Gómez" in sent[1]
    customer.refresh_from_db()
    assert customer.display_name == BIDI_NAME


def test_csat_radios_say_what_each_rating_means_and_403_has_the_app_chrome(
    client, support, sales, customer, account
):
    """Issue 12 bug 9: the CSAT radios 1–5 had no labels; the 403 page had no chrome;
    the support filters read "---------"."""
    from support.services import csat_request, csat_token

    ticket = _ticket(customer, account)
    survey = csat_request(ticket=ticket)
    html = client.get(f"/support/csat/{csat_token(survey)}/").content.decode()
    for rating, meaning in [(1, "Very dissatisfied"), (5, "Very satisfied")]:
        assert re.search(
            rf'<label for="id_rating_{rating - 1}"><input[^>]*value="{rating}"[^>]*>\s*'
            rf"{rating} · {meaning}</label>",
            html,
        ), rating

    client.force_login(sales)
    denied = client.post(f"/support/tickets/{ticket.pk}/reply/", {"kind": "reply", "text": "x"})
    page = denied.content.decode()
    assert denied.status_code == 403
    assert "You may not open this page" in page and 'href="/contacts/"' in page  # the nav

    client.force_login(support)
    queue = client.get("/support/").content.decode()
    assert "---------" not in queue and "Any network" in queue and "Any team" in queue


def test_canned_answers_in_the_contacts_language_come_first_and_reports_name_networks(
    client, support, manager, customer, account
):
    """Issue 12 build 5: English and Spanish canned answers were always listed together,
    and the report showed raw network codes."""
    ticket = _ticket(customer, account, language="es", text="No tengo internet desde ayer")
    for name, language in [("A reply", "en"), ("B respuesta", "es"), ("C reply", "en")]:
        CannedResponse.objects.create(name=name, language=language, purpose="reply", body=name)
    client.force_login(support)
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    canned = re.findall(r'data-canned-text="([^"]+)"', html)
    firsts = [c for c in canned if c in {"A reply", "B respuesta", "C reply"}]
    assert firsts[0] == "B respuesta"
    spanish = canned.index("B respuesta")
    english = canned.index("A reply")
    assert spanish < english

    client.force_login(manager)
    page = client.get("/support/reports/").content.decode()
    assert '"network_label": "Mastodon"' in page and "<td>Mastodon</td>" in page
