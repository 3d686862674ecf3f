import pytest
from django.contrib.contenttypes.models import ContentType

from contacts.models import Contact, ContactAudit, Stage, Tag, TimelineEntry
from contacts.services import contact_merge
from tests.conftest import api_as
from tests.contacts.helpers import full_contact, rows_referring_to, tables_referring_to_contacts
from tests.factories import ContactFactory, SocialIdentityFactory

pytestmark = pytest.mark.django_db


def test_every_table_referring_to_contacts_is_covered():
    labels = {model._meta.label_lower for model, _ in tables_referring_to_contacts()}
    assert labels >= {
        "contacts.socialidentity",
        "contacts.stagechange",
        "contacts.todo",
        "contacts.purchase",
        "contacts.contactaudit",
        "contacts.contact_tags",
        "contacts.timelineentry",
        "crm.outboundmessage",
    }


def test_merge_leaves_nothing_behind(sales):
    survivor = full_contact(sales, name="Lucía P.", email="", n=1)
    survivor.tags.add(Tag.objects.create(name="fibra"))
    other = full_contact(sales, n=2)
    other.stage = Stage.CUSTOMER
    other.save()
    before_survivor, before_other = rows_referring_to(survivor.pk), rows_referring_to(other.pk)
    assert all(before_other.values())  # the other contact really has a row everywhere

    summary = contact_merge(survivor=survivor, other=other, actor=sales)

    assert not Contact.objects.filter(pk=other.pk).exists()
    assert not any(rows_referring_to(other.pk).values())
    after = rows_referring_to(survivor.pk)
    for label, count in after.items():
        expected = before_survivor[label] + before_other[label]
        if label == "contacts.contact_tags":
            expected -= 1  # both were "vip": one link stays
        elif label in ("contacts.stagechange", "contacts.timelineentry"):
            expected += 1  # the higher stage wins: one more change, one more entry
        elif label == "contacts.contactaudit":
            expected += 2  # the merge itself and the stage change
        elif label == "campaigns.attribution":
            expected -= 2  # one first and one last touch per contact: the survivor's stay
        assert count == expected, label
    ct = ContentType.objects.get_for_model(Contact)
    assert not TimelineEntry.objects.filter(content_type=ct, object_id=other.pk).exists()
    assert TimelineEntry.objects.filter(content_type=ct, object_id=survivor.pk).count() == 2

    survivor.refresh_from_db()
    assert survivor.email == "lucia@example.com"  # filled from the other
    assert survivor.stage == Stage.CUSTOMER
    audit = ContactAudit.objects.filter(contact=survivor, action="merge").get()
    assert audit.actor == sales
    assert audit.changes["merged"]["id"] == other.pk
    assert audit.changes["email"] == [None, "lucia@example.com"]
    # Every entry by its contact, plus the one that also points at it generically.
    assert summary["moved"]["contacts.timelineentry"] == before_other["contacts.timelineentry"] + 1


def test_merge_is_atomic(sales, monkeypatch):
    survivor, other = full_contact(sales, n=1), full_contact(sales, n=2)
    before = rows_referring_to(other.pk)

    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("contacts.services.merge.audit_record", boom)
    with pytest.raises(RuntimeError):
        contact_merge(survivor=survivor, other=other, actor=sales)
    assert Contact.objects.filter(pk=other.pk).exists()
    assert rows_referring_to(other.pk) == before


def test_merge_api_and_permissions(sales, support):
    a, b = ContactFactory(), ContactFactory(email="b@example.com")
    SocialIdentityFactory(contact=b, network="x", handle="bee")
    url = f"/api/v1/contacts/{a.pk}/merge/"
    assert api_as(support).post(url, {"other_id": b.pk}).status_code == 403
    for bad in ({}, {"other_id": "x"}, {"other_id": 99999}, {"other_id": a.pk}):
        response = api_as(sales).post(url, bad, format="json")
        assert response.status_code == 400, bad
        assert "other_id" in response.json()
    response = api_as(sales).post(url, {"other_id": b.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == b.pk
    assert response.json()["moved"] == {"contacts.socialidentity": 1}
    assert a.identities.get().handle == "bee"
    history = api_as(support).get(f"/api/v1/contacts/{a.pk}/history/").json()["results"]
    assert history[0]["action"] == "merge" and history[0]["actor"] == sales.username


def test_duplicates_suggested_and_merged_from_the_page(client, sales):
    client.force_login(sales)
    lucia = ContactFactory(display_name="Lucía Pérez", email="Lucia@Example.com")
    SocialIdentityFactory(contact=lucia, network="bluesky", handle="lucia.bsky.social")
    same_email = ContactFactory(display_name="L. P.", email="lucia@example.com")
    same_handle = ContactFactory(display_name="Lu")
    SocialIdentityFactory(contact=same_handle, network="mastodon", handle="Lucia@mastodon.social")
    same_name = ContactFactory(display_name="lucía pérez")
    ContactFactory(display_name="Someone Else", email="else@example.com")

    response = api_as(sales).get(f"/api/v1/contacts/{lucia.pk}/duplicates/")
    found = {d["contact"]["id"]: d["reasons"] for d in response.json()}
    assert found == {same_email.pk: ["email"], same_handle.pk: ["handle"], same_name.pk: ["name"]}

    html = client.get(f"/contacts/{lucia.pk}/").content.decode()
    assert "Possible duplicates" in html and "same handle on another network" in html
    response = client.post(
        f"/contacts/{lucia.pk}/merge/", {"other_id": same_handle.pk}, follow=True
    )
    assert b"Contacts merged." in response.content
    assert set(lucia.identities.values_list("network", flat=True)) == {"bluesky", "mastodon"}


def test_handles_that_share_only_a_first_label_are_not_duplicates(client, sales):
    """Issue 12 bug 5: @ruby.king62 was offered as a duplicate of @ruby.moore46,
    @ruby.hughes178 and @ruby.smith186.bsky.social because only "ruby" was compared."""
    client.force_login(sales)
    king = ContactFactory(display_name="Ruby King")
    SocialIdentityFactory(contact=king, network="x", handle="ruby.king62")
    for name, network, handle in [
        ("Ruby Moore", "x", "ruby.moore46"),
        ("Ruby Hughes", "mastodon", "ruby.hughes178@mastodon.social"),
        ("Ruby Smith", "bluesky", "ruby.smith186.bsky.social"),
        ("Ruby K.", "bluesky", "ruby.king62.example.com"),  # a custom domain is whole
    ]:
        SocialIdentityFactory(
            contact=ContactFactory(display_name=name), network=network, handle=handle
        )
    same = ContactFactory(display_name="R. King")
    SocialIdentityFactory(contact=same, network="bluesky", handle="Ruby.King62.bsky.social")

    response = api_as(sales).get(f"/api/v1/contacts/{king.pk}/duplicates/")
    assert {d["contact"]["id"]: d["reasons"] for d in response.json()} == {same.pk: ["handle"]}
    html = client.get(f"/contacts/{king.pk}/").content.decode()
    assert html.count("same handle on another network") == 1 and "Ruby Moore" not in html


def test_admin_merge_action(client, manager):
    client.force_login(manager)
    a, b, c = ContactFactory(), ContactFactory(), ContactFactory()
    SocialIdentityFactory(contact=c)
    response = client.post(
        "/admin/contacts/contact/",
        {"action": "merge_selected", "_selected_action": [a.pk, b.pk, c.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Contact.objects.values_list("pk", flat=True)) == [a.pk]
    assert a.identities.count() == 1
