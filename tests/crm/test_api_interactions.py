"""GET /api/v1/interactions/ and its handled action (replies: test_answering_peers.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import TimelineEntry
from tests.conftest import api_as
from tests.crm.helpers import bulk_inbound
from tests.factories import (
    SocialAccountFactory,
    SocialIdentityFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "contact",
    "kind",
    "network",
    "external_id",
    "text",
    "url",
    "direction",
    "account",
    "occurred_at",
    "language",
    "intent",
    "sentiment",
    "handled_at",
}


def _entry(account, *, minutes_ago=0, **kwargs):
    identity = SocialIdentityFactory(network=account.network)
    kwargs.setdefault("network", account.network)
    return TimelineEntryFactory(
        account=account,
        identity=identity,
        contact=identity.contact,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def test_interactions_list_fields_filters_and_order(support):
    bsky = SocialAccountFactory()
    masto = SocialAccountFactory(network="mastodon", base_url="http://127.0.0.1:1")
    mention = _entry(bsky, minutes_ago=3, kind="mention", intent="question", language="es")
    like = _entry(bsky, minutes_ago=2, kind="like", text="")
    dm = _entry(masto, minutes_ago=1, kind="dm", handled_at=timezone.now())
    TimelineEntryFactory(
        contact=mention.contact, kind="note", network="", external_id="", direction="internal"
    )
    client = api_as(support)

    body = client.get("/api/v1/interactions/").json()
    assert [r["id"] for r in body["results"]] == [dm.pk, like.pk, mention.pk]
    assert set(body["results"][0]) >= FIELDS
    row = body["results"][2]
    assert row["account"] == bsky.pk and row["contact"] == mention.contact_id
    assert row["intent"] == "question" and row["language"] == "es"

    def ids(query):
        return [r["id"] for r in client.get(f"/api/v1/interactions/?{query}").json()["results"]]

    assert ids(f"contact={mention.contact_id}") == [mention.pk]
    assert ids("network=mastodon") == [dm.pk]
    assert ids("kind=like&kind=mention") == [like.pk, mention.pk]
    assert ids("handled=true") == [dm.pk]
    assert ids("handled=false") == [like.pk, mention.pk]
    response = client.get("/api/v1/interactions/?kind=note")
    assert response.status_code == 400 and "kind" in response.json()


def test_interactions_keyset_pagination_and_query_count(support, django_assert_max_num_queries):
    account = SocialAccountFactory()
    client = api_as(support)
    for i in range(5):
        _entry(account, minutes_ago=i)
    client.get("/api/v1/interactions/")
    with django_assert_max_num_queries(6) as small:
        assert client.get("/api/v1/interactions/").status_code == 200
    bulk_inbound(account, 195, kind="reply")
    with django_assert_max_num_queries(6) as big:
        body = client.get("/api/v1/interactions/?page_size=200").json()
    assert len(small.captured_queries) == len(big.captured_queries)
    assert len(body["results"]) == 200 and body["next"] is None

    seen = []
    url = "/api/v1/interactions/?page_size=30"
    while url:
        page = client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert len(seen) == 200 == len(set(seen))
    stamps = list(
        TimelineEntry.objects.filter(pk__in=seen)
        .order_by("-occurred_at", "-id")
        .values_list("id", flat=True)
    )
    assert seen == stamps
    assert client.get("/api/v1/interactions/?cursor=garbage").status_code == 400


def test_mark_handled_and_back(support):
    entry = _entry(SocialAccountFactory())
    client = api_as(support)
    response = client.post(f"/api/v1/interactions/{entry.pk}/handled/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["handled_at"] is not None
    assert response.json()["handled_by"] == support.pk
    back = client.post(
        f"/api/v1/interactions/{entry.pk}/handled/", {"handled": False}, format="json"
    )
    assert back.json()["handled_at"] is None
    outbound = _entry(SocialAccountFactory(), direction="out", kind="reply")
    refused = client.post(f"/api/v1/interactions/{outbound.pk}/handled/", {}, format="json")
    assert refused.status_code == 400


def test_reply_validation_without_sending(support):
    """What the service refuses is a 400 with field messages and queues nothing."""
    follow = _entry(SocialAccountFactory(), kind="follow", text="")
    client = api_as(support)
    response = client.post(
        f"/api/v1/interactions/{follow.pk}/reply/", {"text": "thanks!"}, format="json"
    )
    assert response.status_code == 400
    assert "private" in response.json()
    response = client.post(f"/api/v1/interactions/{follow.pk}/reply/", {}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    orphan = TimelineEntryFactory(kind="mention", account=None)
    response = client.post(
        f"/api/v1/interactions/{orphan.pk}/reply/", {"text": "hello"}, format="json"
    )
    assert response.status_code == 400 and "entry" in response.json()
    assert not follow.answers.exists() and not orphan.answers.exists()


def test_interactions_permissions(api, sales, support, manager, outsider):
    entry = _entry(SocialAccountFactory(), text="private words")
    for path in ("/api/v1/interactions/", f"/api/v1/interactions/{entry.pk}/"):
        response = api.get(path)
        assert response.status_code == 401
        assert b"private words" not in response.content
    assert api.post(f"/api/v1/interactions/{entry.pk}/reply/", {"text": "x"}).status_code == 401
    assert api.post(f"/api/v1/interactions/{entry.pk}/handled/").status_code == 401
    for user in (sales, support, manager):
        assert api_as(user).get("/api/v1/interactions/").status_code == 200
    client = api_as(outsider)
    assert client.get("/api/v1/interactions/").status_code == 403
    assert client.post(f"/api/v1/interactions/{entry.pk}/handled/").status_code == 403
    assert client.post(f"/api/v1/interactions/{entry.pk}/reply/", {"text": "x"}).status_code == 403
    entry.refresh_from_db()
    assert entry.handled_at is None and not entry.answers.exists()


def test_openapi_schema_has_the_social_endpoints():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in (
        "/api/v1/interactions/",
        "/api/v1/interactions/{id}/reply/",
        "/api/v1/interactions/{id}/handled/",
        "/api/v1/social-accounts/",
        "/api/v1/social-accounts/{id}/sync/",
        "/api/v1/social-accounts/{id}/pause/",
    ):
        assert path in schema["paths"], path
    account = schema["components"]["schemas"]["SocialAccount"]["properties"]
    assert "credentials" not in account


HOSTILE = 'Ro<script>alert("x")</script>\\ \u202eevil\u202c \u2028next \U0001f525 =cmd|"/c calc"!A1'


def test_interactions_list_is_the_json_drf_gives(support, sales):
    """The list answers through the serializer's fast path, without the account's join
    or the raw payload: byte for byte what DRF's own serializer gives for the rows."""
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer

    from contacts.services import contact_erase
    from crm.selectors import interaction_queryset
    from crm.serializers import InteractionSerializer

    bsky = SocialAccountFactory(credentials={"password": "never answered"})
    hostile = _entry(bsky, minutes_ago=5, text=HOSTILE, url="https://bsky.app/p/1")
    hostile.identity.handle = HOSTILE
    hostile.identity.save(update_fields=["handle"])
    _entry(bsky, minutes_ago=4, kind="like", text="", label_confidence=0.5, like_count=7)
    TimelineEntryFactory(  # ours, written by a member of staff, no identity
        contact=hostile.contact,
        account=bsky,
        kind="reply",
        direction="out",
        created_by=sales,
        assigned_to=support,
        occurred_at=timezone.now() - timedelta(minutes=3),
    )
    TimelineEntryFactory(account=None, kind="dm", occurred_at=timezone.now() - timedelta(minutes=2))
    erased = _entry(bsky, minutes_ago=1, text="my address is 1 Main St", handled_at=timezone.now())
    contact_erase(contact=erased.contact, actor=sales)
    TimelineEntryFactory(contact=hostile.contact, kind="note", network="", direction="internal")

    response = api_as(support).get("/api/v1/interactions/")
    assert response.status_code == 200
    rows = interaction_queryset().order_by("-occurred_at", "-id")
    data = serializers.ListSerializer(child=InteractionSerializer(), instance=rows).data
    assert response.content == JSONRenderer().render({"next": None, "results": data})
    body = response.json()["results"]
    authors = [r["author"] for r in body]
    assert authors[1:3] == [None, "ana"] and authors[4] == HOSTILE
    assert authors[0].startswith("erased") and authors[3].endswith(".test")
    assert body[4]["text"] == HOSTILE and body[4]["url"] == "https://bsky.app/p/1"
    assert body[1]["url"] is None and body[1]["account"] is None
    assert "Main St" not in response.content.decode() and b"never answered" not in response.content
    assert "note" not in {r["kind"] for r in body}


def test_interactions_list_query_count_is_fixed(support, django_assert_num_queries):
    account = SocialAccountFactory()
    client = api_as(support)
    _entry(account)
    client.get("/api/v1/interactions/")  # warm the permission cache
    with django_assert_num_queries(1):  # the page, with its identities and staff authors
        assert len(client.get("/api/v1/interactions/").json()["results"]) == 1
    bulk_inbound(account, 120, authors=30)
    with django_assert_num_queries(1):
        assert len(client.get("/api/v1/interactions/").json()["results"]) == 50


def test_interactions_newest_first_is_one_index_scan():
    """The list's query, at any depth, reads the index ``timeline_social_newest`` in its
    order: no sort of every social entry (PostgreSQL proves the index's condition from
    the query's, whatever the order of the kinds)."""
    from django.db import connection

    from crm.selectors import interaction_list_queryset

    TimelineEntryFactory.create_batch(3)
    page = interaction_list_queryset().order_by("-occurred_at", "-id")
    deeper = page.filter(occurred_at__lte=timezone.now()).filter(kind="mention")
    with connection.cursor() as cursor:
        # Three rows: make the planner show what it does at 200,000 (a sort it cannot
        # avoid would still be in the plan).
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
    for qs in (page, deeper):
        plan = qs[:51].explain()
        assert "timeline_social_newest" in plan, plan
        assert "Sort" not in plan, plan
