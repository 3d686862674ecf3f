"""The support API: tickets and their actions, SLA policies, canned responses,
incidents, testimonials and the report."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.models import OutboundMessage
from support.models import Incident, Status, Ticket
from tests.conftest import api_as
from tests.factories import ContactFactory, TimelineEntryFactory, complaint_entry

pytestmark = pytest.mark.django_db


def test_open_from_an_interaction_carries_its_classification(support, customer, account):
    entry = complaint_entry(contact=customer, account=account, language="es", sentiment="negative")
    api = api_as(support)
    response = api.post("/api/v1/tickets/", {"interaction": entry.pk}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["number"] == f"#{data['id']}" and data["network"] == "mastodon"
    [interaction] = data["interactions"]
    assert (interaction["language"], interaction["intent"], interaction["sentiment"]) == (
        "es",
        "complaint",
        "negative",
    )
    assert data["sla"]["target"] == "first_response" and data["sla"]["seconds_left"] > 0
    # The same interaction again returns the same ticket.
    again = api.post("/api/v1/tickets/", {"interaction": entry.pk}, format="json").json()
    assert again["id"] == data["id"]


def test_open_for_a_contact_and_bad_input(support):
    api = api_as(support)
    contact = ContactFactory()
    response = api.post(
        "/api/v1/tickets/",
        {"contact": contact.pk, "subject": "Refund", "priority": 3},
        format="json",
    )
    assert response.status_code == 201 and response.json()["priority"] == 3
    assert api.post("/api/v1/tickets/", {"contact": contact.pk}, format="json").json() == {
        "subject": ["A ticket for a contact needs a subject."]
    }
    assert "interaction" in api.post("/api/v1/tickets/", {}, format="json").json()
    outbound = TimelineEntryFactory(contact=contact, direction="out")
    assert (
        api.post("/api/v1/tickets/", {"interaction": outbound.pk}, format="json").status_code == 400
    )


def test_assign_reply_handoff_resolve(support, customer, account):
    api = api_as(support)
    entry = complaint_entry(contact=customer, account=account)
    ticket = api.post("/api/v1/tickets/", {"interaction": entry.pk}, format="json").json()
    base = f"/api/v1/tickets/{ticket['id']}"
    assigned = api.post(f"{base}/assign/", {"assignee": support.pk}, format="json").json()
    assert assigned["assignee"] == support.username
    reply = api.post(f"{base}/reply/", {"kind": "reply", "text": "Checking"}, format="json")
    assert reply.status_code == 201 and reply.json()["state"] == "pending"
    assert (
        api.post(f"{base}/reply/", {"kind": "post", "text": "x"}, format="json").status_code == 400
    )
    handed = api.post(f"{base}/handoff/", {}, format="json").json()
    assert [r["purpose"] for r in handed["replies"]] == ["reply", "handoff_public", "handoff_dm"]
    assert "Lucía Gómez" in handed["replies"][1]["text"]  # canned text, filled in
    resolved = api.post(f"{base}/resolve/", {"message": "Done"}, format="json").json()
    assert resolved["status"] == "resolved"
    assert [r["purpose"] for r in resolved["replies"]][-2:] == ["final", "csat"]
    assert api.post(f"{base}/resolve/", {}, format="json").json() == {
        "status": ["This ticket is already resolved."]
    }
    assert (
        api.post(f"{base}/status/", {"status": "closed"}, format="json").json()["status"]
        == "closed"
    )


def test_queue_filters_and_bulk_assign(support, customer, account, django_assert_max_num_queries):
    api = api_as(support)
    tickets = [
        api.post(
            "/api/v1/tickets/", {"contact": ContactFactory().pk, "subject": f"s{i}"}, format="json"
        ).json()
        for i in range(3)
    ]
    response = api.post(
        "/api/v1/tickets/bulk-assign/",
        {"tickets": [t["id"] for t in tickets[:2]], "assignee": support.pk},
        format="json",
    )
    assert response.json() == {"assigned": 2}
    mine = api.get("/api/v1/tickets/?queue=mine").json()["results"]
    assert {t["id"] for t in mine} == {t["id"] for t in tickets[:2]}
    unassigned = api.get("/api/v1/tickets/?queue=unassigned").json()["results"]
    assert [t["id"] for t in unassigned] == [tickets[2]["id"]]
    for _ in range(20):
        complaint_entry(contact=customer, account=account)
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/tickets/?status=new&status=open").status_code == 200


def test_sales_reads_and_cannot_write(sales, support, customer, account):
    ticket = (
        api_as(support)
        .post("/api/v1/tickets/", {"contact": customer.pk, "subject": "x"}, format="json")
        .json()
    )
    api = api_as(sales)
    assert api.get(f"/api/v1/tickets/{ticket['id']}/").status_code == 200
    assert (
        api.post(
            "/api/v1/tickets/", {"contact": customer.pk, "subject": "x"}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.post(f"/api/v1/tickets/{ticket['id']}/resolve/", {}, format="json").status_code == 403
    )
    assert api.get("/api/v1/reports/support/").status_code == 200


def test_sla_policies_and_canned_responses(manager, support, team):
    api = api_as(manager)
    policies = api.get("/api/v1/sla-policies/").json()["results"]
    assert len(policies) == 4
    urgent = next(p for p in policies if p["priority"] == 4)
    assert (
        api.patch(
            f"/api/v1/sla-policies/{urgent['id']}/", {"first_response_minutes": 10}, format="json"
        ).json()["first_response_minutes"]
        == 10
    )
    created = api.post(
        "/api/v1/canned-responses/",
        {"name": "Form", "language": "en", "purpose": "general", "body": "Use {form_url}"},
        format="json",
    )
    assert created.status_code == 201
    assert api.get("/api/v1/canned-responses/?language=es").json()["results"][0]["language"] == "es"
    assert api_as(support).delete(f"/api/v1/sla-policies/{urgent['id']}/").status_code == 403


def test_incidents_api(manager, team, account):
    api = api_as(manager)
    tickets = []
    for i in range(2):
        contact = ContactFactory(stage=2)
        entry = complaint_entry(contact=contact, account=account, text=f"App crashes on login {i}")
        tickets.append(
            api.post("/api/v1/tickets/", {"interaction": entry.pk}, format="json").json()["id"]
        )
    incident = api.post(
        "/api/v1/incidents/", {"title": "Login crash", "team": team.pk}, format="json"
    )
    assert incident.status_code == 201
    base = f"/api/v1/incidents/{incident.json()['id']}"
    linked = api.post(f"{base}/link/", {"tickets": tickets}, format="json").json()
    assert sorted(linked["tickets"]) == sorted(tickets)
    stated = api.post(f"{base}/statement/", {"text": "We're on it."}, format="json").json()
    assert stated["statement"] == "We're on it."
    assert api.post(f"{base}/statement/", {"text": ""}, format="json").status_code == 400
    done = api.post(f"{base}/resolve/", {"final_message": "Fixed."}, format="json").json()
    assert done["state"] == "resolved"
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.RESOLVED}
    assert Incident.objects.get().final_message == "Fixed."
    assert OutboundMessage.objects.filter(ticket_reply__purpose="final").count() == 2


def test_testimonials_api(sales, customer):
    TimelineEntryFactory(contact=customer, intent="praise", text="Great help!")
    TimelineEntryFactory(contact=customer, intent="complaint", text="Bad")
    results = api_as(sales).get("/api/v1/testimonials/").json()["results"]
    assert [r["text"] for r in results] == ["Great help!"]
    assert results[0]["intent"] == "praise"


def test_report_api_dates(manager, customer, account):
    api = api_as(manager)
    api.post(
        "/api/v1/tickets/",
        {"interaction": complaint_entry(contact=customer, account=account).pk},
        format="json",
    )
    report = api.get("/api/v1/reports/support/").json()
    assert report["tickets"] == 1 and report["by_network"] == [
        {"network": "mastodon", "tickets": 1}
    ]
    assert report["by_account"][0]["account"] == "brand"
    assert report["top_complaint_topics"]
    assert api.get("/api/v1/reports/support/?from=2020-01-01&to=2020-01-31").json()["tickets"] == 0
    assert api.get("/api/v1/reports/support/?from=2020-13-01").json() == {
        "from": ["Use a date like 2026-01-31."]
    }
    assert "from" in api.get("/api/v1/reports/support/?from=2021-01-02&to=2021-01-01").json()
    # Tickets by day: every day of the period, quiet ones at 0 (not a single dot).
    by_day = report["by_day"]
    assert len(by_day) == 30 and sum(d["tickets"] for d in by_day) == 1
    assert by_day[-1] == {"day": timezone.localdate().isoformat(), "tickets": 1}
    assert [d["tickets"] for d in by_day[:-1]] == [0] * 29
    long = api.get("/api/v1/reports/support/?from=2000-01-01").json()["by_day"]
    assert [d["tickets"] for d in long] == [1]  # longer than a year: only days with tickets
