from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from contacts.serializers import TimelineEntrySerializer
from core.choices import Network

from .models import OutboundMessage, SocialAccount


class SocialAccountSerializer(serializers.ModelSerializer):
    """An account's state; the credentials are write-only and never in a response."""

    class Meta:
        model = SocialAccount
        fields = [
            "id",
            "network",
            "kind",
            "user",
            "handle",
            "external_id",
            "base_url",
            "state",
            "last_error",
            "last_synced_at",
            "next_sync_at",
            "items_synced",
            "items_failed",
            "created_at",
        ]
        read_only_fields = fields


class SocialAccountConnectSerializer(serializers.Serializer):
    network = serializers.ChoiceField(choices=Network.choices)
    kind = serializers.ChoiceField(
        choices=SocialAccount.Kind.choices, default=SocialAccount.Kind.BRAND
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, allow_null=True, default=None
    )
    handle = serializers.CharField(max_length=255)
    base_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=2000, allow_blank=True), write_only=True
    )


class SyncQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class InteractionSerializer(TimelineEntrySerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(TimelineEntrySerializer.Meta):
        fields = [*TimelineEntrySerializer.Meta.fields, "assigned_to", "handled_by"]
        read_only_fields = fields


class AnswerInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    private = serializers.BooleanField(default=False)
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_blank=True)


class HandledInputSerializer(serializers.Serializer):
    handled = serializers.BooleanField(default=True)


class OutboundMessageSerializer(serializers.ModelSerializer):
    failure_text = serializers.CharField(read_only=True)

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "account",
            "kind",
            "idempotency_key",
            "contact",
            "in_reply_to",
            "text",
            "state",
            "attempts",
            "failure",
            "failure_params",
            "failure_text",
            "last_error",
            "external_id",
            "url",
            "entry",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class OutboundRetryInputSerializer(serializers.Serializer):
    """Retry as it was (no ``text``), or edit and resend with ``text``."""

    text = serializers.CharField(required=False, allow_blank=True, max_length=5000)
