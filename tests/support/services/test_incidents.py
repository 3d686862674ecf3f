"""A surge of similar complaints becomes one incident: one statement to each
complaint (once, also when the worker retries), and one resolution for all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Notification
from crm.models import OutboundMessage
from crm.outbox import outbound_key, system_key
from support.models import Incident, Status
from support.services import (
    incident_post_statement,
    incident_resolve,
    ticket_reply_confirmed,
    tickets_open_for_entries,
)
from support.tasks import incident_statement_send
from tests.factories import ContactFactory, SocialIdentityFactory, complaint_entry

pytestmark = pytest.mark.django_db

OUTAGE = [
    "No internet in Madrid since this morning, fibre down!",
    "Internet down in Madrid again?? my fibre has no signal",
    "Fibre internet dead in Madrid, nothing loads",
    "Madrid: internet outage on my fibre line for hours",
]


def _complaints(account, texts):
    entries = []
    for text in texts:
        contact = ContactFactory(stage=2)
        SocialIdentityFactory(contact=contact, network=account.network)
        entries.append(complaint_entry(contact=contact, account=account, text=text))
    return entries


def test_similar_complaints_group_into_one_incident(team, account, manager):
    team.incident_min_tickets = 3
    team.save()
    first_two = tickets_open_for_entries(entries=_complaints(account, OUTAGE[:2]))
    assert not Incident.objects.exists()
    unrelated = tickets_open_for_entries(
        entries=_complaints(account, ["I was charged twice for my invoice"])
    )
    third = tickets_open_for_entries(entries=_complaints(account, OUTAGE[2:3]))
    incident = Incident.objects.get()
    assert set(incident.tickets.all()) == {*first_two, *third}
    assert unrelated[0].incident_id is None
    assert {"internet", "madrid"} <= set(incident.keywords)
    assert Notification.objects.get(user=manager).url == incident.get_absolute_url()
    # A later complaint on the same topic joins the open incident.
    [fourth] = tickets_open_for_entries(entries=_complaints(account, OUTAGE[3:]))
    fourth.refresh_from_db()
    assert fourth.incident == incident


@pytest.fixture
def incident(team, account):
    team.incident_min_tickets = 3
    team.save()
    tickets_open_for_entries(entries=_complaints(account, OUTAGE[:3]))
    return Incident.objects.get()


def test_statement_is_queued_once_per_complaint_when_the_task_retries(
    incident, support, django_capture_on_commit_callbacks
):
    incident_post_statement(
        incident=incident, text="We know about the Madrid outage.", user=support
    )
    # The worker runs it, dies before acknowledging, and the broker delivers it again.
    incident_statement_send.apply(args=(incident.pk, support.pk))
    incident_statement_send.apply(args=(incident.pk, support.pk))
    complaints = {t.interactions.get().pk for t in incident.tickets.all()}
    # Momento's own keys: the statement's per complaint, as a keyed hash.
    keys = [
        outbound_key(system_key(f"incident-{incident.pk}-statement-{pk}"), user=None)
        for pk in complaints
    ]
    messages = OutboundMessage.objects.filter(idempotency_key__in=keys)
    assert messages.count() == OutboundMessage.objects.count() == 3
    assert {m.in_reply_to_id for m in messages} == complaints
    assert all(m.kind == "reply" and m.text.startswith("We know") for m in messages)
    for ticket in incident.tickets.all():
        # Queued, not yet confirmed by the network: no first response yet.
        assert ticket.first_response_at is None and ticket.status == Status.OPEN
    for message in messages:
        ticket_reply_confirmed(message_id=message.pk, sent_at=timezone.now())
    for ticket in incident.tickets.all():
        assert ticket.first_response_at is not None


def test_resolving_the_incident_resolves_its_tickets_with_a_final_message(incident, support):
    incident_resolve(incident=incident, user=support, final_message="Fixed, sorry!")
    incident.refresh_from_db()
    assert incident.state == Incident.State.RESOLVED
    for ticket in incident.tickets.all():
        assert ticket.status == Status.RESOLVED
        purposes = sorted(ticket.replies.values_list("purpose", flat=True))
        assert purposes == ["csat", "final"]
    finals = OutboundMessage.objects.filter(ticket_reply__purpose="final")
    assert finals.count() == 3 and {m.text for m in finals} == {"Fixed, sorry!"}
    with pytest.raises(ValidationError):
        incident_resolve(incident=incident, user=support, final_message="again")


# --- one outage, two languages ----------------------------------------------------

BILINGUAL_OUTAGE = [
    "No internet since this morning in Madrid, nothing loads",
    "sin internet desde la mañana en Madrid 😡",
    "@brand se cayó la red otra vez en Madrid, llevo horas sin conexión",
    "wifi down again in Madrid?? working from home is impossible",
]
BILLING_SURGE = [
    "charged twice on my bill this month, sort it out",
    "me cobraron dos veces la factura de este mes",
    "otra vez un cobro duplicado en mi factura, qué vergüenza",
]


def _classified(account, texts):
    """Complaints as the ingest path stores them: labels from lib.classify."""
    from lib.classify import classify

    entries = []
    for text in texts:
        c = classify(text)
        contact = ContactFactory(stage=2)
        SocialIdentityFactory(contact=contact, network=account.network)
        entries.append(
            complaint_entry(
                contact=contact,
                account=account,
                text=text,
                language=c.language,
                intent="complaint",
                sentiment=c.sentiment,
            )
        )
    return entries


def test_a_mixed_language_outage_is_one_incident(team, account, manager):
    team.incident_min_tickets = 3
    team.save()
    entries = _classified(account, BILINGUAL_OUTAGE)
    assert {e.language for e in entries} == {"en", "es"}
    tickets = tickets_open_for_entries(entries=entries)
    assert len(tickets) == 4
    incident = Incident.objects.get()
    assert {t.pk for t in incident.tickets.all()} == {t.pk for t in tickets}
    assert "internet" in incident.keywords
    assert "madrid" in incident.keywords


def test_two_unrelated_surges_stay_two_incidents(team, account, manager):
    team.incident_min_tickets = 3
    team.save()
    outage = tickets_open_for_entries(entries=_classified(account, BILINGUAL_OUTAGE))
    billing = tickets_open_for_entries(entries=_classified(account, BILLING_SURGE))
    assert Incident.objects.count() == 2
    for ticket in [*outage, *billing]:
        ticket.refresh_from_db()
    assert len({t.incident_id for t in outage}) == 1
    assert len({t.incident_id for t in billing}) == 1
    assert outage[0].incident_id != billing[0].incident_id
    assert "bill" in billing[0].incident.keywords


def test_the_same_outage_in_two_cities_is_two_incidents(team, account, manager):
    team.incident_min_tickets = 3
    team.save()
    madrid = tickets_open_for_entries(entries=_classified(account, BILINGUAL_OUTAGE[:3]))
    leeds = [t.replace("Madrid", "Leeds") for t in BILINGUAL_OUTAGE[:3]]
    leeds_tickets = tickets_open_for_entries(entries=_classified(account, leeds))
    assert Incident.objects.count() == 2
    for ticket in [*madrid, *leeds_tickets]:
        ticket.refresh_from_db()
    assert {t.incident_id for t in madrid}.isdisjoint({t.incident_id for t in leeds_tickets})
