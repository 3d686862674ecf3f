from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from contacts.models import Purchase, SocialIdentity, Stage, StageChange, TimelineEntry
from tests.conftest import api_as
from tests.factories import ContactFactory, SocialIdentityFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "amount": "39.90",
    "currency": "eur",
    "product": "Fibra 600Mb",
    "source": "shop",
    "external_ref": "A-1001",
    "purchased_at": "2026-11-20T10:00:00Z",
}


def test_post_twice_creates_one_purchase_and_moves_to_customer(sales):
    contact = ContactFactory(stage=Stage.LEAD)
    client = api_as(sales)
    first = client.post("/api/v1/purchases/", {**ORDER, "contact": contact.pk}, format="json")
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/purchases/", {**ORDER, "contact": contact.pk}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    purchase = Purchase.objects.get()
    assert (purchase.amount, purchase.currency, purchase.source) == (
        Decimal("39.90"),
        "EUR",
        "shop",
    )

    contact.refresh_from_db()
    assert contact.stage == Stage.CUSTOMER
    change = StageChange.objects.get(contact=contact)
    assert (change.rule, change.from_stage, change.to_stage) == ("Purchase", 1, 2)
    entry = TimelineEntry.objects.get(contact=contact, kind="purchase")
    assert entry.content_type == ContentType.objects.get_for_model(Purchase)
    assert entry.object_id == purchase.pk and entry.subject == purchase
    assert entry.raw["amount"] == "39.90"
    assert contact.last_interaction_at == purchase.purchased_at
    # Same reference from another source is another purchase.
    other = client.post("/api/v1/purchases/", {**ORDER, "contact": contact.pk, "source": "pos"})
    assert other.status_code == 201
    assert StageChange.objects.filter(contact=contact).count() == 1  # the rule fired once


def test_post_by_network_and_handle(sales):
    contact = ContactFactory()
    SocialIdentityFactory(contact=contact, network="x", handle="Lucia_Shop")
    client = api_as(sales)
    response = client.post(
        "/api/v1/purchases/", {**ORDER, "network": "x", "handle": "@lucia_shop"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact"] == contact.pk

    # Nobody has this handle yet: the buyer becomes a contact, at stage 2.
    response = client.post(
        "/api/v1/purchases/",
        {**ORDER, "external_ref": "A-2", "network": "mastodon", "handle": "new@social.example"},
        format="json",
    )
    assert response.status_code == 201
    identity = SocialIdentity.objects.get(network="mastodon")
    assert identity.handle == "new@social.example"
    assert identity.contact.stage == Stage.CUSTOMER


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "contact"),
        ({"network": "x"}, "contact"),
        ({"handle": "x"}, "contact"),
        ({"contact": 999999}, "contact"),
        ({"network": "myspace", "handle": "x"}, "network"),
        ({"contact": "SELF", "network": "x", "handle": "y"}, "contact"),
        ({"contact": "SELF", "amount": "-1"}, "amount"),
        ({"contact": "SELF", "amount": "abc"}, "amount"),
        ({"contact": "SELF", "currency": "EURO"}, "currency"),
        ({"contact": "SELF", "purchased_at": "yesterday"}, "purchased_at"),
        ({"contact": "SELF", "product": ""}, "product"),
    ],
)
def test_bad_posts_are_400_with_field_messages(sales, payload, field):
    contact = ContactFactory()
    body = {**ORDER, **{k: (contact.pk if v == "SELF" else v) for k, v in payload.items()}}
    response = api_as(sales).post("/api/v1/purchases/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Purchase.objects.exists()


def test_permissions_and_filters(sales, support, manager):
    contact = ContactFactory()
    assert (
        api_as(support).post("/api/v1/purchases/", {**ORDER, "contact": contact.pk}).status_code
        == 403
    )
    api_as(sales).post("/api/v1/purchases/", {**ORDER, "contact": contact.pk})
    api_as(sales).post("/api/v1/purchases/", {**ORDER, "contact": contact.pk, "external_ref": "B"})
    listed = api_as(support).get(f"/api/v1/purchases/?contact={contact.pk}&external_ref=B")
    assert [p["external_ref"] for p in listed.json()["results"]] == ["B"]
    purchase = Purchase.objects.get(external_ref="B")
    assert api_as(sales).delete(f"/api/v1/purchases/{purchase.pk}/").status_code == 403
    assert api_as(manager).delete(f"/api/v1/purchases/{purchase.pk}/").status_code == 204


def test_purchase_from_the_contact_page(client, sales):
    client.force_login(sales)
    contact = ContactFactory()
    response = client.post(
        f"/contacts/{contact.pk}/purchases/",
        {"product": "Router <Pro>", "amount": "99", "currency": "EUR", "external_ref": "R1"},
        follow=True,
    )
    assert b"Purchase recorded." in response.content
    assert b"Router &lt;Pro&gt;" in response.content
    contact.refresh_from_db()
    assert contact.stage == Stage.CUSTOMER
    response = client.post(
        f"/contacts/{contact.pk}/purchases/",
        {"product": "Router", "amount": "99", "currency": "EUR", "external_ref": "R1"},
        follow=True,
    )
    assert b"already recorded" in response.content
    assert Purchase.objects.count() == 1
