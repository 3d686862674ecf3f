"""``core.serializers.FastListSerializer`` answers what DRF's ListSerializer answers, for
the fields its plan knows and for those it hands back to DRF (dotted sources through a
missing row, properties, nested serializers, method fields that read the context,
other formats), whether the relations are prefetched into lists, prefetched the
Django way or not at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from rest_framework import serializers

from contacts.models import Contact, SocialIdentity, Tag
from core.serializers import FastListSerializer, MomentoModelSerializer, rows_attach
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


@pytest.mark.parametrize("prefetch", ["rows", "django", "none"])
def test_the_fast_path_answers_what_drf_answers(contacts, prefetch):
    if prefetch == "rows":
        rows = list(contacts)
        ids = [c.pk for c in rows]
        identities = SocialIdentity.objects.filter(contact_id__in=ids).order_by("id")
        # Plain rows: every column of the identities, the tags' names.
        rows_attach(rows, "identities", identities.values(), key="contact_id")
        tags = Tag.objects.filter(contacts__in=ids).order_by("name")
        rows_attach(rows, "tags", tags.values("id", "name", owner=F("contacts")), key="owner")
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


def test_plain_rows_the_fields_cannot_be_read_from_are_refused(contacts):
    """Rows without the slug, or for a serializer answering more than columns, are a
    configuration error (never a made-up answer)."""
    rows = list(contacts)
    ids = [c.pk for c in rows]
    tags = Contact.tags.through.objects.filter(contact_id__in=ids)
    rows_attach(rows, "tags", tags.values("contact_id", "tag_id"), key="contact_id")
    with pytest.raises(ImproperlyConfigured):
        OddContactSerializer(rows, many=True, context={"who": "x"}).data  # noqa: B018

    class WithMethod(MomentoModelSerializer):
        shout = serializers.SerializerMethodField()

        class Meta:
            model = SocialIdentity
            fields = ["id", "shout"]

        def get_shout(self, identity) -> str:
            return identity.handle.upper()

    class Owner(MomentoModelSerializer):
        identities = WithMethod(many=True, read_only=True)

        class Meta:
            model = Contact
            fields = ["id", "identities"]
            list_serializer_class = FastListSerializer

    identities = SocialIdentity.objects.filter(contact_id__in=ids)
    rows_attach(rows, "identities", identities.values(), key="contact_id")
    with pytest.raises(ImproperlyConfigured):
        Owner(rows, many=True).data  # noqa: B018
    SocialIdentityFactory(contact=rows[1])
    fetched = list(contacts.prefetch_related("identities"))
    assert Owner(fetched, many=True).data[1]["identities"][0]["shout"].startswith("PERSON")


def test_a_models_own_labels_are_answered(contacts, monkeypatch):
    """A model that answers ``get_FOO_display`` its own way (its own
    ``_get_FIELD_display``) is asked, not second-guessed by the plan's label table."""
    from functools import partialmethod

    def shouted(self, field):
        return f"{getattr(self, field.attname)}!"

    monkeypatch.setattr(Contact, "_get_FIELD_display", shouted)
    stage = Contact._meta.get_field("stage")
    monkeypatch.setattr(Contact, "get_stage_display", partialmethod(shouted, field=stage))

    class Labels(MomentoModelSerializer):
        stage_label = serializers.CharField(source="get_stage_display", read_only=True)

        class Meta:
            model = Contact
            fields = ["id", "stage_label"]
            list_serializer_class = FastListSerializer

    rows = list(contacts)
    fast = Labels(rows, many=True).data
    assert fast == serializers.ListSerializer(child=Labels(), instance=rows).data
    assert [row["stage_label"] for row in fast] == ["1!", "0!"]
