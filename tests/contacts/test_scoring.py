"""Lead scores: computed from engagement with their reasons, refreshed by tasks, shown
on the page, the list, the board and the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact
from contacts.scoring import contacts_score_refresh, reason_label, score_compute
from contacts.tasks import contacts_score_refresh_all
from tests.conftest import api_as
from tests.factories import ContactFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db


def test_score_from_engagement_with_reasons():
    now = timezone.now()
    score, reasons = score_compute(
        {
            "last_in": now - timedelta(days=2),
            "recent": 4,
            "dms": 1,
            "talks": 3,
            "positive": 3,
            "negative": 1,
        },
        now=now,
    )
    codes = {r["code"]: r["points"] for r in reasons}
    assert codes == {"recency": 30, "frequency": 12, "dm": 15, "conversation": 6, "sentiment": 5}
    assert score == 68
    assert score_compute({}, now=now) == (0, [])
    assert (
        reason_label({"code": "recency", "points": 30, "value": 2}) == "Last interaction 2 days ago"
    )
    angry = score_compute({"last_in": now - timedelta(days=400), "negative": 5}, now=now)
    assert angry == (0, [{"code": "sentiment", "points": -10, "value": 0}])


def test_score_refresh_stores_reasons_and_shows_them(client, sales):
    contact = ContactFactory()
    TimelineEntryFactory(contact=contact, kind="dm", sentiment="positive")
    TimelineEntryFactory(contact=contact, kind="follow")
    quiet = ContactFactory()
    assert contacts_score_refresh(contact_ids=[contact.pk, quiet.pk]) == 1
    contact.refresh_from_db()
    assert contact.score == 30 + 6 + 10 + 15 + 10
    assert {r["code"] for r in contact.score_reasons} == {
        "recency",
        "frequency",
        "follow",
        "dm",
        "sentiment",
    }
    assert contacts_score_refresh(contact_ids=[contact.pk]) == 0  # nothing changed
    body = api_as(sales).get(f"/api/v1/contacts/{contact.pk}/").json()
    assert body["score"] == contact.score
    assert {"code": "follow", "points": 10, "value": 1, "label": "Follows us"} in body[
        "score_reasons"
    ]
    client.force_login(sales)
    assert "Follows us" in client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Follows us (+10)" in client.get("/contacts/").content.decode()
    assert "Follows us (+10)" in client.get("/contacts/pipeline/").content.decode()


def test_score_batch_task_walks_all_contacts():
    contacts = ContactFactory.create_batch(3)
    for c in contacts:
        TimelineEntryFactory(contact=c, kind="follow")
    assert contacts_score_refresh_all.delay().get() == 3
    assert all(c.score > 0 for c in Contact.objects.all())
