"""A contact's change history (``contacts.services.audit``): every change, from the API,
the UI or the admin, with who made it and each field's old and new value."""

import pytest

from contacts.models import ContactAudit
from tests.conftest import api_as
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


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
