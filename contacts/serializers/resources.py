"""The API's resources: a serializer per model (what ``GET`` returns and plain writes
accept). Writes go through the services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from contacts import services
from contacts.models import (
    Contact,
    ContactAudit,
    ContactImport,
    Purchase,
    SocialIdentity,
    Stage,
    StageRule,
    Tag,
    TimelineEntry,
    Todo,
)
from contacts.scoring import reason_label
from contacts.selectors import API_IDENTITY_COLUMNS
from core.serializers import FastListSerializer, MomentoModelSerializer
from core.validators import not_in_the_past

#: What every identity written through a contact must name.
IDENTITY_KEYS = ("network", "external_id", "handle")


class SocialIdentitySerializer(MomentoModelSerializer):
    class Meta:
        model = SocialIdentity
        fields = list(API_IDENTITY_COLUMNS)
        read_only_fields = ["id"]
        # Uniqueness of (network, external_id) is checked in ContactSerializer, where the
        # identity is created, so nested writes get a field message rather than a 500.
        validators: list = []


class ScoreReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    points = serializers.IntegerField()
    value = serializers.IntegerField()
    label = serializers.SerializerMethodField()

    def get_label(self, reason) -> str:
        return reason_label(reason)


class ContactSerializer(MomentoModelSerializer):
    identities = SocialIdentitySerializer(many=True, required=False)
    score_reasons = ScoreReasonSerializer(many=True, read_only=True)
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
            "score_reasons",
            "last_interaction_at",
            "identities",
            "created_at",
            "updated_at",
        ]
        # Lists answer through the read plan (same JSON, a fraction of the time).
        list_serializer_class = FastListSerializer
        read_only_fields = [
            "id",
            "score",
            "score_reasons",
            "last_interaction_at",
            "created_at",
            "updated_at",
        ]

    def validate_identities(self, identities):
        # A PATCH is partial for the nested identities too, so DRF does not require
        # their keys; an identity is nothing without them (a POST requires them all).
        missing = [
            {f: ["This field is required."] for f in IDENTITY_KEYS if f not in identity}
            for identity in identities
        ]
        if any(missing):
            raise serializers.ValidationError(missing)
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

    def create(self, validated_data):
        identities = validated_data.pop("identities", [])
        tags = validated_data.pop("tags", [])
        stage = validated_data.pop("stage", Stage.DISCOVERED)
        try:
            return services.contact_create(
                actor=self.context["request"].user,
                fields=validated_data,
                tags=tags,
                identities=identities,
                stage=stage,
                note="Created through the API",
            )
        except IntegrityError:
            raise serializers.ValidationError(
                {"identities": "An identity was taken by another contact meanwhile."}
            ) from None

    @transaction.atomic
    def update(self, instance, validated_data):
        identities = validated_data.pop("identities", None)
        tags = validated_data.pop("tags", None)
        validated_data.pop("stage", None)
        services.contact_update(
            contact=instance, actor=self.context["request"].user, fields=validated_data, tags=tags
        )
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


class TimelineEntrySerializer(MomentoModelSerializer):
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
            "label_confidence",
            "like_count",
            "repost_count",
            "reply_count",
            "handled_at",
        ]
        read_only_fields = fields
        list_serializer_class = FastListSerializer

    def get_author(self, entry) -> str | None:
        if entry.is_inbound and entry.identity_id:
            return entry.identity.handle
        if entry.created_by_id:
            return entry.created_by.get_username()
        return None


class DuplicateSerializer(serializers.Serializer):
    contact = ContactSerializer()
    reasons = serializers.ListField(child=serializers.ChoiceField(["email", "handle", "name"]))


class ContactAuditSerializer(MomentoModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ContactAudit
        fields = ["id", "contact", "actor", "action", "changes", "note", "created_at"]
        read_only_fields = fields


# "Task" is the API's name for a to-do; clients generate code from the schema.
@extend_schema_serializer(component_name="Task")
class TodoSerializer(MomentoModelSerializer):
    class Meta:
        model = Todo
        fields = [
            "id",
            "contact",
            "title",
            "due_at",
            "assignee",
            "done_at",
            "reminded_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "reminded_at", "created_by", "created_at"]
        extra_kwargs = {"due_at": {"validators": [not_in_the_past]}}

    def create(self, validated_data):
        user = self.context["request"].user
        try:
            return services.todo_create(
                contact=validated_data["contact"],
                title=validated_data["title"],
                due_at=validated_data["due_at"],
                assignee=validated_data.get("assignee", user),
                actor=user,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class PurchaseSerializer(MomentoModelSerializer):
    class Meta:
        model = Purchase
        fields = [
            "id",
            "contact",
            "amount",
            "currency",
            "product",
            "source",
            "external_ref",
            "purchased_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class StageRuleSerializer(MomentoModelSerializer):
    # The database's checks (stagerule_target_forward, stagerule_window_valid), said here
    # so a client gets a field message instead of an IntegrityError.
    target_stage = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in (Stage.LEAD, Stage.CUSTOMER)]
    )
    threshold = serializers.IntegerField(min_value=1, max_value=32767, required=False)
    window_days = serializers.IntegerField(min_value=1, max_value=32767, required=False)

    class Meta:
        model = StageRule
        fields = [
            "id",
            "name",
            "kind",
            "target_stage",
            "threshold",
            "window_days",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ContactImportSerializer(MomentoModelSerializer):
    class Meta:
        model = ContactImport
        fields = [
            "id",
            "filename",
            "mapping",
            "state",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "skipped_erased_count",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields
