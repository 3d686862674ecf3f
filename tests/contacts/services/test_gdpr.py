import json

import pytest
from django.db.models import CharField, JSONField, TextField

from contacts import services
from contacts.models import Contact, ContactAudit, Purchase, StageChange, TimelineEntry
from contacts.search import contact_search
from tests.conftest import api_as
from tests.contacts.helpers import (
    SECRET,
    full_contact,
    rows_referring_to,
    tables_referring_to_contacts,
)

pytestmark = pytest.mark.django_db


def test_export_holds_everything_about_the_contact(sales):
    contact = full_contact(sales)
    full_contact(sales, name="Someone Else", email="else@example.com", n=2)
    counts = rows_referring_to(contact.pk)
    response = api_as(sales).get(f"/api/v1/contacts/{contact.pk}/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["contact"]["display_name"] == "Lucía Pérez"
    assert data["contact"]["email"] == "lucia@example.com"
    assert data["contact"]["tags"] == ["vip"]
    assert "search_document" not in data["contact"]
    related = data["related"]
    # Every table that refers to the contact, with exactly this contact's rows.
    for label, count in counts.items():
        if label == "contacts.contact_tags":
            continue
        assert len(related[label]) == count, label
    assert related["contacts.socialidentity"][0]["handle"] == "lucia1.bsky.social"
    texts = [e["text"] for e in related["contacts.timelineentry"]]
    assert f"{SECRET} post 0" in texts and f"Said {SECRET}" in texts
    assert any(e["raw"] == {"record": {"text": SECRET}} for e in related["contacts.timelineentry"])
    assert related["contacts.purchase"][0]["external_ref"] == "o-1"
    assert related["contacts.todo"][0]["title"] == f"Visit {SECRET}"
    assert related["crm.outboundmessage"][0]["text"] == f"Hi, about {SECRET}"
    assert all(row["contact"] == contact.pk for rows in related.values() for row in rows)
    assert ContactAudit.objects.filter(contact=contact, action="export", actor=sales).exists()


def test_erase_leaves_no_personal_data_and_keeps_counts(sales, manager):
    contact = full_contact(sales)
    bystander = full_contact(sales, name="Other Person", email="other@example.com", n=2)
    counts = rows_referring_to(contact.pk)
    bystander_texts = TimelineEntry.objects.filter(contact=bystander, text__contains=SECRET).count()
    kinds = sorted(TimelineEntry.objects.filter(contact=contact).values_list("kind", flat=True))

    response = api_as(manager).post(f"/api/v1/contacts/{contact.pk}/erase/")
    assert response.status_code == 200, response.content

    contact.refresh_from_db()
    assert contact.display_name == f"Erased contact #{contact.pk}"
    assert (contact.email, contact.phone, contact.company) == ("", "", "")
    # Nothing personal in any text or JSON field of any row that refers to the contact.
    for model, field in tables_referring_to_contacts():
        for row in model._base_manager.filter(**{field: contact.pk}):
            for f in model._meta.concrete_fields:
                if isinstance(f, CharField | TextField | JSONField):
                    value = json.dumps(getattr(row, f.attname), default=str)
                    for secret in (SECRET, "lucia", "Lucía", "bsky.app/post", "old@x.y"):
                        assert secret not in value, (model, f.name, value)
    # Counts are kept: same rows, same kinds of interaction, same purchases.
    after = rows_referring_to(contact.pk)
    assert after.pop("contacts.contactaudit") == counts.pop("contacts.contactaudit") + 1
    assert after == counts
    assert (
        sorted(TimelineEntry.objects.filter(contact=contact).values_list("kind", flat=True))
        == kinds
    )
    assert Purchase.objects.get(contact=contact).amount == 10
    assert StageChange.objects.filter(contact=contact).count() == 2
    # Search no longer finds them by name, handle or what they wrote.
    for text in ("lucia", "Calle Mayor"):
        assert contact not in contact_search(Contact.objects.all(), text)
    # The audit history records the erasure; nobody else is touched.
    erase = ContactAudit.objects.filter(contact=contact, action="erase").get()
    assert erase.actor == manager
    assert (
        TimelineEntry.objects.filter(contact=bystander, text__contains=SECRET).count()
        == bystander_texts
    )
    bystander.refresh_from_db()
    assert bystander.email == "other@example.com"


def test_gdpr_permissions_and_ui(client, sales, support, manager):
    contact = full_contact(sales)
    assert api_as(support).get(f"/api/v1/contacts/{contact.pk}/export/").status_code == 403
    assert api_as(support).post(f"/api/v1/contacts/{contact.pk}/erase/").status_code == 403
    client.force_login(support)
    assert client.get(f"/contacts/{contact.pk}/export.json").status_code == 403
    assert client.post(f"/contacts/{contact.pk}/erase/", {"confirm": "on"}).status_code == 403

    # Sales exports, but erasing (irreversible) is for Managers only.
    assert api_as(sales).post(f"/api/v1/contacts/{contact.pk}/erase/").status_code == 403
    client.force_login(sales)
    assert client.post(f"/contacts/{contact.pk}/erase/", {"confirm": "on"}).status_code == 403
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Export as JSON" in page and "Erase…" not in page
    download = client.get(f"/contacts/{contact.pk}/export.json")
    assert download["Content-Disposition"] == f'attachment; filename="contact-{contact.pk}.json"'
    assert json.loads(download.content)["contact"]["email"] == "lucia@example.com"
    contact.refresh_from_db()
    assert contact.email

    client.force_login(manager)
    assert "Erase…" in client.get(f"/contacts/{contact.pk}/").content.decode()

    refused = client.post(f"/contacts/{contact.pk}/erase/", {})
    assert refused.status_code == 200  # the confirmation box must be ticked
    contact.refresh_from_db()
    assert contact.email
    response = client.post(f"/contacts/{contact.pk}/erase/", {"confirm": "on"}, follow=True)
    assert b"personal data was erased" in response.content
    contact.refresh_from_db()
    assert not contact.email
    history = response.content.decode()
    assert "Personal data erased (GDPR)" in history and "Data exported (GDPR)" in history


def test_tombstones_hold_only_keyed_hashes_and_survive_a_key_rotation(manager, settings):
    """What an erase keeps is a keyed hash: not the id, not its unkeyed hash, and it
    still matches after SECRET_KEY is rotated the Django way (old key in fallbacks)."""
    import hashlib

    from contacts.models import SocialIdentity, Tombstone
    from tests.factories import ContactFactory, SocialIdentityFactory

    contact = ContactFactory(email="gone@example.com")
    SocialIdentityFactory(contact=contact, network="x", handle="Gone_Person", external_id="98765")
    services.contact_erase(contact=contact, actor=manager)
    digests = set(Tombstone.objects.values_list("digest", flat=True))
    assert len(digests) == 3  # user id, handle, email
    for value in ["98765", "Gone_Person", "gone_person", "gone@example.com"]:
        assert not any(value in d for d in digests)
        assert hashlib.md5(value.encode()).hexdigest() not in digests  # noqa: S324
        assert hashlib.sha256(value.encode()).hexdigest() not in digests
    assert not SocialIdentity.objects.filter(external_id="98765").exists()

    def erased() -> dict:
        return Tombstone.matching("x", {"author": ["98765", "1"], "handle": ["@GONE_person"]})

    assert erased() == {"author": {"98765"}, "handle": {"@GONE_person"}}
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert erased() == {"author": set(), "handle": set()}  # without the old key: unknown
    settings.SECRET_KEY_FALLBACKS = [old]
    assert erased() == {"author": {"98765"}, "handle": {"@GONE_person"}}
