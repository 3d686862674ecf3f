"""``core.serializers.FastListSerializer`` answers what DRF's ListSerializer answers, for
the fields its plan knows and for those it hands back to DRF (dotted sources through a
missing row, properties, nested serializers, method fields that read the context,
other formats), whether the relations are prefetched into lists, prefetched the
Django way or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers

from contacts.models import Contact, SocialIdentity, Tag
from core.serializers import FastListSerializer, MomentoModelSerializer, rows_prefetch
from tests.factories import ContactFactory, SocialIdentityFactory, UserFactory

pytestmark = pytest.mark.django_db


class OwnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class IdentitySerializer(MomentoModelSerializer):
    class Meta:
        model = SocialIdentity
        fields = ["id", "network", "handle", "profile_url", "follower_count", "created_at"]


class OddContactSerializer(MomentoModelSerializer):
    owner_name = serializers.CharField(source="owner.username", read_only=True)
    owner_text = serializers.StringRelatedField(source="owner")
    owner_nested = OwnerSerializer(source="owner", read_only=True)
    key = serializers.IntegerField(source="pk", read_only=True)
    tag_ids = serializers.PrimaryKeyRelatedField(source="tags", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    identities = IdentitySerializer(many=True, read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    year = serializers.DateTimeField(source="created_at", format="%Y", read_only=True)
    who = serializers.SerializerMethodField()
    secret = serializers.CharField(write_only=True, required=False)
    missing = serializers.CharField(source="no_such_attribute", required=False)

    class Meta:
        model = Contact
        fields = [
            "id",
            "display_name",
            "stage",
            "stage_label",
            "owner",
            "owner_name",
            "owner_text",
            "owner_nested",
            "key",
            "tag_ids",
            "tags",
            "identities",
            "score",
            "score_reasons",
            "last_interaction_at",
            "year",
            "who",
            "secret",
            "missing",
        ]
        list_serializer_class = FastListSerializer

    def get_who(self, contact) -> str:
        return f"{self.context['who']} sees {contact.display_name}"


@pytest.fixture
def contacts():
    owner = UserFactory(username="olga")
    tag = Tag.objects.create(name="vip")
    full = ContactFactory(
        display_name="Full <b>",
        owner=owner,
        stage=1,
        last_interaction_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        score_reasons=[{"code": "follow", "points": 10, "value": 1}],
    )
    full.tags.add(tag)
    SocialIdentityFactory(contact=full, profile_url="https://example.social/@f")
    SocialIdentityFactory(contact=full, network="mastodon", follower_count=3)
    ContactFactory(display_name="Bare")
    return Contact.objects.order_by("id")


@pytest.mark.parametrize("prefetch", ["lists", "django", "none"])
def test_the_fast_path_answers_what_drf_answers(contacts, prefetch):
    if prefetch == "lists":
        rows = contacts.prefetch_related(rows_prefetch("identities"), rows_prefetch("tags"))
    elif prefetch == "django":
        rows = contacts.prefetch_related("identities", "tags")
    else:
        rows = contacts
    context = {"who": "Ana"}
    fast = OddContactSerializer(list(rows), many=True, context=context)
    assert isinstance(fast, FastListSerializer)
    slow = serializers.ListSerializer(
        child=OddContactSerializer(), instance=list(contacts), context=context
    )
    assert fast.data == slow.data
    full, bare = fast.data
    assert "secret" not in full and "missing" not in full  # DRF's SkipField
    assert bare["owner_name"] is None and bare["owner_nested"] is None and bare["owner"] is None
    assert full["owner_nested"] == {"id": full["owner"], "username": "olga"}
    assert full["who"] == "Ana sees Full <b>" and full["year"] == str(datetime.now().year)
    assert full["identities"][0]["profile_url"] == "https://example.social/@f"
    assert full["identities"][1]["profile_url"] is None
