from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contacts.models import StageChange
from tests.conftest import api_as
from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db


def test_contact_json_contract(sales):
    contact = ContactFactory(display_name="Lucía Pérez")
    SocialIdentityFactory(
        contact=contact, network="mastodon", handle="lucia@example.social", external_id="109"
    )
    data = api_as(sales).get(f"/api/v1/contacts/{contact.pk}/").json()
    assert data["id"] == contact.pk
    assert data["display_name"] == "Lucía Pérez"
    assert data["stage"] == 0
    assert data["identities"] == [
        {
            "id": contact.identities.get().pk,
            "network": "mastodon",
            "handle": "lucia@example.social",
            "external_id": "109",
            "display_name": "",
            "profile_url": None,  # a blank URL is null: the schema's uri is then true
            "follower_count": None,
        }
    ]


def test_token_auth_works_and_anonymous_gets_401(api, sales):
    token = Token.objects.create(user=sales)
    assert api.get("/api/v1/contacts/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/contacts/").status_code == 200


def test_filters_stage_search_network_handle(sales):
    a = ContactFactory(display_name="Alice Walker", stage=1)
    b = ContactFactory(display_name="Bob Stone", email="bob@shop.example")
    SocialIdentityFactory(contact=a, network="bluesky", handle="alice.bsky.social")
    SocialIdentityFactory(contact=b, network="x", handle="alice_fan")
    client = api_as(sales)

    def ids(query):
        response = client.get(f"/api/v1/contacts/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("stage=1") == {a.pk}
    assert ids("search=walker") == {a.pk}
    assert ids("search=shop.example") == {b.pk}
    assert ids("search=alice") == {a.pk, b.pk}
    assert ids("network=x&handle=alice_fan") == {b.pk}
    assert ids("network=bluesky&handle=alice_fan") == set()
    assert ids("handle=@alice.bsky.social") == {a.pk}


def test_invalid_stage_filter_is_a_400(sales):
    response = api_as(sales).get("/api/v1/contacts/?stage=9")
    assert response.status_code == 400
    assert "stage" in response.json()


def test_create_with_identities_and_400s(sales):
    client = api_as(sales)
    response = client.post(
        "/api/v1/contacts/",
        {
            "display_name": "Nora King",
            "stage": 1,
            "email": "nora@example.com",
            "identities": [{"network": "x", "handle": "nora", "external_id": "42"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage"] == 1
    assert StageChange.objects.get(contact_id=body["id"]).actor == sales

    again = client.post(
        "/api/v1/contacts/",
        {
            "display_name": "Copy",
            "identities": [{"network": "x", "handle": "nora2", "external_id": "42"}],
        },
        format="json",
    )
    assert again.status_code == 400
    assert "identities" in again.json()

    bad = client.post(
        "/api/v1/contacts/", {"display_name": "", "email": "nope", "stage": 5}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) >= {"display_name", "email", "stage"}


def test_patch_cannot_change_stage_silently(sales):
    contact = ContactFactory()
    response = api_as(sales).patch(f"/api/v1/contacts/{contact.pk}/", {"stage": 2}, format="json")
    assert response.status_code == 400
    assert "stage" in response.json()


def test_stage_endpoint(sales):
    contact = ContactFactory()
    client = api_as(sales)
    response = client.post(
        f"/api/v1/contacts/{contact.pk}/stage/",
        {"stage": 1, "reason": "Asked for a quote"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == 1
    change = StageChange.objects.get(contact=contact)
    assert (change.to_stage, change.reason, change.actor) == (1, "Asked for a quote", sales)

    for payload in ({"stage": 4}, {"stage": "x"}, {}, {"stage": 1}):
        bad = client.post(f"/api/v1/contacts/{contact.pk}/stage/", payload, format="json")
        assert bad.status_code == 400, payload
        assert "stage" in bad.json()
    assert StageChange.objects.filter(contact=contact).count() == 1


def test_timeline_newest_first_with_cursor(sales):
    contact = ContactFactory()
    now = timezone.now()
    entries = [
        TimelineEntryFactory(contact=contact, occurred_at=now - timedelta(minutes=i))
        for i in range(7)
    ]
    # Two entries at the same instant must both appear once, ordered by id.
    twin = TimelineEntryFactory(contact=contact, occurred_at=entries[3].occurred_at)
    TimelineEntryFactory()  # someone else's
    client = api_as(sales)

    seen, url = [], f"/api/v1/contacts/{contact.pk}/timeline/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert [e["id"] for e in seen] == [
        e.pk for e in sorted([*entries, twin], key=lambda e: (e.occurred_at, e.pk), reverse=True)
    ]
    first = seen[0]
    assert set(first) >= {
        "id",
        "kind",
        "network",
        "external_id",
        "text",
        "direction",
        "occurred_at",
    }
    assert client.get(f"/api/v1/contacts/{contact.pk}/timeline/?cursor=garbage").status_code == 400


def test_timeline_query_count_is_constant(sales, django_assert_max_num_queries):
    contact = ContactFactory()
    client = api_as(sales)
    TimelineEntryFactory.create_batch(3, contact=contact)
    client.get(f"/api/v1/contacts/{contact.pk}/timeline/")  # warm the permission cache
    with django_assert_max_num_queries(6) as small:
        assert client.get(f"/api/v1/contacts/{contact.pk}/timeline/").status_code == 200
    TimelineEntryFactory.create_batch(120, contact=contact)
    with django_assert_max_num_queries(6) as big:
        assert len(client.get(f"/api/v1/contacts/{contact.pk}/timeline/").json()["results"]) == 50
    assert len(small.captured_queries) == len(big.captured_queries)


def test_list_query_count_is_constant(sales, django_assert_max_num_queries):
    client = api_as(sales)
    for contact in ContactFactory.create_batch(3):
        SocialIdentityFactory(contact=contact)
    client.get("/api/v1/contacts/")  # warm the permission cache
    with django_assert_max_num_queries(8) as small:
        client.get("/api/v1/contacts/")
    for contact in ContactFactory.create_batch(80):
        SocialIdentityFactory(contact=contact)
    with django_assert_max_num_queries(8) as big:
        assert len(client.get("/api/v1/contacts/").json()["results"]) == 50
    assert len(small.captured_queries) == len(big.captured_queries)


def test_openapi_schema_is_valid(sales):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in (
        "/api/v1/contacts/{id}/stage/",
        "/api/v1/contacts/{id}/timeline/",
        "/api/v1/contacts/{id}/notes/",
        "/api/v1/contacts/{id}/merge/",
        "/api/v1/contacts/{id}/export/",
        "/api/v1/contacts/{id}/erase/",
        "/api/v1/contacts/{id}/history/",
        "/api/v1/contacts/{id}/duplicates/",
        "/api/v1/tasks/",
        "/api/v1/purchases/",
        "/api/v1/stage-rules/",
        "/api/v1/contact-imports/",
    ):
        assert path in schema["paths"], path
    response = api_as(sales).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200


def test_notes_rules_and_filters_api(sales, support, manager):
    contact = ContactFactory(owner=sales, last_interaction_at=timezone.now())
    client = api_as(sales)
    note = client.post(f"/api/v1/contacts/{contact.pk}/notes/", {"text": "Called"}, format="json")
    assert note.status_code == 201 and note.json()["kind"] == "note"
    assert client.post(f"/api/v1/contacts/{contact.pk}/notes/", {"text": ""}).status_code == 400
    assert (
        api_as(support).post(f"/api/v1/contacts/{contact.pk}/notes/", {"text": "x"}).status_code
        == 201
    )
    ids = [
        r["id"]
        for r in client.get("/api/v1/contacts/?owner=me&last_interaction=7d").json()["results"]
    ]
    assert ids == [contact.pk]

    rules = api_as(manager).get("/api/v1/stage-rules/?kind=follow").json()["results"]
    assert [r["name"] for r in rules] == ["Follow of our account"]
    bad = api_as(manager).post(
        "/api/v1/stage-rules/", {"name": "x", "kind": "dm", "target_stage": 9}, format="json"
    )
    assert bad.status_code == 400 and "target_stage" in bad.json()
    made = api_as(manager).post(
        "/api/v1/stage-rules/",
        {
            "name": "Five mentions",
            "kind": "engagement",
            "target_stage": 1,
            "threshold": 5,
            "window_days": 14,
        },
        format="json",
    )
    assert made.status_code == 201
    assert (
        api_as(support)
        .patch(f"/api/v1/stage-rules/{made.json()['id']}/", {"active": False})
        .status_code
        == 403
    )
