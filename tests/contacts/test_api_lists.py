"""The API's contact list and contact timeline answer through the serializers' fast path
(``core.serializers.FastListSerializer``): byte for byte the JSON DRF's own serializer
gives for the same rows (hostile text, nulls, blank links, erased and merged contacts,
Spanish and another time zone), in a number of queries that does not grow with the list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from contacts import services
from contacts.models import Contact, Tag
from contacts.selectors import contact_list_queryset, contact_timeline
from contacts.serializers import ContactSerializer, TimelineEntrySerializer
from tests.conftest import api_as
from tests.factories import (
    ContactFactory,
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

#: What a social network may send as a name or a post: markup, quotes, a backslash,
#: bidi overrides, a line separator JSON must escape for JavaScript, emoji, a formula.
HOSTILE = 'Ro<script>alert("x")</script>\\ \u202eevil\u202c \u2028next \U0001f525 =cmd|"/c calc"!A1'


def drf_json(serializer_class, rows, **context) -> bytes:
    """The page DRF's own ListSerializer (no fast path) answers for ``rows``."""
    data = serializers.ListSerializer(child=serializer_class(), instance=rows, context=context).data
    return JSONRenderer().render({"next": None, "results": data})


@pytest.fixture
def people(sales):
    """Contacts of every shape a list row can have."""
    owner = UserFactory(username="owner-of-some")
    vip, fibra = Tag.objects.create(name="vip"), Tag.objects.create(name="fibra ñ")
    plain = ContactFactory(display_name="Plain Person")  # no identity, tag, owner or date
    hostile = ContactFactory(
        display_name=HOSTILE,
        email="x@example.com",
        company=HOSTILE,
        phone="+34 600 000 000",
        language="es",
        owner=owner,
        stage=2,
        score=42,
        score_reasons=[
            {"code": "recency", "points": 20, "value": 3},
            {"code": "dm", "points": 12, "value": 1},
            {"code": "follow", "points": 10, "value": 1},
        ],
        last_interaction_at=datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
    )
    hostile.tags.set([vip, fibra])
    SocialIdentityFactory(
        contact=hostile,
        network="mastodon",
        handle="evil@example.social",
        display_name=HOSTILE,
        profile_url="https://example.social/@evil",
        follower_count=0,
    )
    SocialIdentityFactory(contact=hostile, network="bluesky", handle="evil.bsky.social")
    erased = ContactFactory(display_name="Erin Erased", email="erin@example.com")
    SocialIdentityFactory(contact=erased, network="x", handle="erin")
    erased.tags.set([vip])
    services.contact_erase(contact=erased, actor=sales)
    survivor = ContactFactory(display_name="Sam Survivor", stage=1)
    other = ContactFactory(display_name="Sam S.", email="sam@example.com")
    SocialIdentityFactory(contact=survivor, network="bluesky", handle="sam.bsky.social")
    SocialIdentityFactory(contact=other, network="mastodon", handle="sam@example.social")
    other.tags.set([fibra])
    services.contact_merge(survivor=survivor, other=other, actor=sales)
    return [plain, hostile, erased, survivor]


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("es", "America/Bogota")])
def test_contact_list_is_the_json_drf_gives(sales, people, language, zone):
    client = api_as(sales)
    with timezone.override(zone):
        response = client.get("/api/v1/contacts/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        with translation.override(language):
            request = response.wsgi_request
            expected = drf_json(
                ContactSerializer, contact_list_queryset().order_by("-id"), request=request
            )
    assert response.content == expected
    rows = {row["id"]: row for row in response.json()["results"]}
    hostile, erased, survivor = (rows[c.pk] for c in people[1:])
    assert hostile["display_name"] == HOSTILE and hostile["tags"] == ["fibra ñ", "vip"]
    assert [i["network"] for i in hostile["identities"]] == ["bluesky", "mastodon"]
    assert rows[people[0].pk]["owner"] is None and rows[people[0].pk]["identities"] == []
    assert erased["email"] == "" and "Erin" not in response.content.decode()
    assert len(survivor["identities"]) == 2 and survivor["tags"] == ["fibra ñ"]
    assert Contact.objects.filter(display_name="Sam S.").count() == 0
    if language == "es":
        assert hostile["stage_label"] != "Customer"
        assert hostile["last_interaction_at"] == "2026-03-28T20:30:15.123456-05:00"
    else:
        assert hostile["stage_label"] == "Customer"
        assert hostile["last_interaction_at"] == "2026-03-29T01:30:15.123456Z"


def test_contact_list_filters_and_pages_keep_their_answers(sales, people):
    client = api_as(sales)
    stage = client.get("/api/v1/contacts/?stage=2").json()["results"]
    assert [row["id"] for row in stage] == [people[1].pk]
    first = client.get("/api/v1/contacts/?page_size=2").json()
    second = client.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted((c.pk for c in people), reverse=True)
    assert client.get("/api/v1/contacts/?cursor=nonsense").status_code == 400


def test_contact_list_queries_do_not_grow(sales, django_assert_num_queries):
    client = api_as(sales)
    tag = Tag.objects.create(name="t")
    for contact in ContactFactory.create_batch(2):
        SocialIdentityFactory(contact=contact)
        contact.tags.add(tag)
    client.get("/api/v1/contacts/")  # warm the permission cache
    # The page, its identities, its tags.
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/contacts/").json()["results"]) == 2
    for contact in ContactFactory.create_batch(70):
        SocialIdentityFactory(contact=contact)
        SocialIdentityFactory(contact=contact, network="mastodon")
        contact.tags.add(tag)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/contacts/").json()["results"]) == 50


def test_contact_timeline_is_the_json_drf_gives(sales):
    contact = ContactFactory()
    identity = SocialIdentityFactory(contact=contact, handle="teller.bsky.social")
    account = SocialAccountFactory(handle="brand.test")
    TimelineEntryFactory(contact=contact, identity=identity, account=account, text=HOSTILE)
    TimelineEntryFactory(
        contact=contact, kind="reply", direction="out", identity=None, created_by=sales
    )
    TimelineEntryFactory(
        contact=contact,
        kind="note",
        network="",
        external_id="",
        direction="internal",
        url="",
        label_confidence=0.25,
    )
    TimelineEntryFactory(contact=contact, url="https://bsky.app/x", like_count=3)
    response = api_as(sales).get(f"/api/v1/contacts/{contact.pk}/timeline/")
    assert response.status_code == 200
    rows = contact_timeline(contact.pk, kinds=[]).order_by("-occurred_at", "-id")
    assert response.content == drf_json(TimelineEntrySerializer, rows)
    authors = [row["author"] for row in response.json()["results"]]
    assert authors == [None, None, "ana", "teller.bsky.social"]


def test_filters_still_apply_beside_the_page_parameters(sales, people):
    """The filter backend skips the FilterSet only for a request that names nothing but
    the page (``core.filters``): a filter next to them, or a bad value, still counts."""
    client = api_as(sales)
    body = client.get("/api/v1/contacts/?page_size=10&stage=2&format=json").json()
    assert [row["id"] for row in body["results"]] == [people[1].pk]
    assert client.get("/api/v1/contacts/?page_size=10&stage=banana").status_code == 400
    everyone = client.get("/api/v1/contacts/?page_size=10&unknown=1").json()["results"]
    assert len(everyone) == len(client.get("/api/v1/contacts/?page_size=10").json()["results"])
    assert len(everyone) == len(people)
