from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contacts.filters import SORTS
from contacts.models import Contact, ContactAudit
from contacts.scoring import contacts_score_refresh, reason_label, score_compute
from contacts.tasks import contacts_score_refresh_all
from core.paging import InvalidCursor, keyset_page
from tests.conftest import api_as
from tests.factories import ContactFactory, TimelineEntryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("compound", [True, False], ids=["union", "two-queries"])
def test_every_sort_pages_through_everything_once(monkeypatch, compound):
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", compound)
    now = timezone.now()
    for i in range(23):
        ContactFactory(
            display_name=f"P{i % 5}",
            score=i % 4,
            last_interaction_at=None if i % 3 == 0 else now - timedelta(hours=i % 7),
        )
    for key, sort in SORTS.items():
        seen, cursor = [], None
        while True:
            page = keyset_page(Contact.objects.all(), **sort.keyset, cursor=cursor, size=4)
            seen += page.items
            cursor = page.next_cursor
            if not cursor:
                break
        assert len(seen) == 23 and len({c.pk for c in seen}) == 23, key
        if key == "recent":
            dated = [c for c in seen if c.last_interaction_at]
            assert seen[: len(dated)] == dated  # never-contacted last
            assert dated == sorted(dated, key=lambda c: (c.last_interaction_at, c.pk), reverse=True)
        if key == "name":
            assert seen == sorted(seen, key=lambda c: (c.display_name, c.pk))
    with pytest.raises(InvalidCursor):
        keyset_page(Contact.objects.all(), **SORTS["name"].keyset, cursor="WzEsMl0", size=4)


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


def test_changes_are_audited_from_api_ui_and_admin(client, sales, manager):
    contact = ContactFactory(email="old@example.com")
    bruno = UserFactory(username="bruno", role="Sales")
    response = api_as(sales).patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"email": "new@example.com", "owner": bruno.pk},
        format="json",
    )
    assert response.status_code == 200
    audit = ContactAudit.objects.get(contact=contact)
    assert (audit.actor, audit.action) == (sales, "update")
    assert audit.changes == {
        "email": ["old@example.com", "new@example.com"],
        "owner": [None, "bruno"],
    }

    client.force_login(sales)
    client.post(f"/contacts/{contact.pk}/owner/", {"owner": sales.pk})
    assert ContactAudit.objects.latest("id").changes == {"owner": ["bruno", "ana"]}
    client.post(f"/contacts/{contact.pk}/stage/", {"stage": 1, "reason": "Call"})
    assert ContactAudit.objects.latest("id").changes == {"stage": [0, 1]}
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "old@example.com" in page and "Stage changed" in page

    client.force_login(manager)
    data = {
        "display_name": contact.display_name,
        "stage": 1,
        "owner": sales.pk,
        "email": "admin@example.com",
        "phone": "",
        "company": "Acme",
        "language": "",
        "stage_reason": "",
    }
    for prefix in ("identities", "stage_changes"):
        data |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}
    response = client.post(f"/admin/contacts/contact/{contact.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    audit = ContactAudit.objects.latest("id")
    assert audit.actor == manager
    assert audit.changes == {
        "email": ["new@example.com", "admin@example.com"],
        "company": ["", "Acme"],
    }
    assert (
        "admin@example.com"
        in client.get(f"/admin/contacts/contact/{contact.pk}/change/").content.decode()
    )
