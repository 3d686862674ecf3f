from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers

from crm.models import TimelineEntry

from .models import Contact, SocialIdentity, Stage, Tag
from .services import contact_change_stage


class SocialIdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialIdentity
        fields = [
            "id",
            "network",
            "handle",
            "external_id",
            "display_name",
            "profile_url",
            "follower_count",
        ]
        read_only_fields = ["id"]
        # Uniqueness of (network, external_id) is checked in ContactSerializer, where the
        # identity is created, so nested writes get a field message rather than a 500.
        validators: list = []


class ContactSerializer(serializers.ModelSerializer):
    identities = SocialIdentitySerializer(many=True, required=False)
    tags = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Tag.objects.all(), required=False
    )
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "display_name",
            "stage",
            "stage_label",
            "owner",
            "email",
            "phone",
            "company",
            "language",
            "tags",
            "score",
            "last_interaction_at",
            "identities",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "score", "last_interaction_at", "created_at", "updated_at"]

    def validate_identities(self, identities):
        seen = set()
        for identity in identities:
            key = (identity["network"], identity["external_id"])
            if key in seen:
                raise serializers.ValidationError("The same identity is listed twice.")
            seen.add(key)
            existing = SocialIdentity.objects.filter(network=key[0], external_id=key[1])
            if self.instance is not None:
                existing = existing.exclude(contact=self.instance)
            if existing.exists():
                raise serializers.ValidationError(
                    f"{key[0]} user {key[1]} already belongs to another contact."
                )
        return identities

    def validate(self, attrs):
        if self.instance is not None and "stage" in attrs and attrs["stage"] != self.instance.stage:
            raise serializers.ValidationError(
                {
                    "stage": "Change a stage with POST /api/v1/contacts/{id}/stage/ so it is recorded."
                }
            )
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        identities = validated_data.pop("identities", [])
        tags = validated_data.pop("tags", [])
        stage = validated_data.pop("stage", Stage.DISCOVERED)
        contact = Contact.objects.create(**validated_data)
        contact.tags.set(tags)
        self._save_identities(contact, identities)
        if stage != Stage.DISCOVERED:
            contact_change_stage(
                contact=contact,
                stage=stage,
                actor=self.context["request"].user,
                reason="Created through the API",
            )
        return contact

    @transaction.atomic
    def update(self, instance, validated_data):
        identities = validated_data.pop("identities", None)
        validated_data.pop("stage", None)
        instance = super().update(instance, validated_data)
        if identities is not None:
            self._save_identities(instance, identities)
        return instance

    def _save_identities(self, contact, identities):
        for data in identities:
            try:
                SocialIdentity.objects.update_or_create(
                    network=data["network"],
                    external_id=data["external_id"],
                    defaults={**data, "contact": contact},
                )
            except IntegrityError:
                raise serializers.ValidationError(
                    {"identities": "An identity was taken by another contact meanwhile."}
                ) from None


class StageChangeInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    def save(self, *, contact, actor):
        try:
            return contact_change_stage(
                contact=contact,
                stage=self.validated_data["stage"],
                actor=actor,
                reason=self.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class TimelineEntrySerializer(serializers.ModelSerializer):
    account = serializers.StringRelatedField()
    author = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEntry
        fields = [
            "id",
            "contact",
            "kind",
            "network",
            "external_id",
            "text",
            "url",
            "direction",
            "account",
            "author",
            "in_reply_to",
            "thread_id",
            "occurred_at",
            "language",
            "intent",
            "sentiment",
            "like_count",
            "repost_count",
            "reply_count",
            "handled_at",
        ]
        read_only_fields = fields

    def get_author(self, entry) -> str | None:
        if entry.direction == "in" and entry.identity_id:
            return entry.identity.handle
        if entry.created_by_id:
            return entry.created_by.get_username()
        return None
