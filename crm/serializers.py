from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.serializers import TimelineEntrySerializer
from core.choices import Network
from core.serializers import MomentoModelSerializer

from .models import OutboundMessage, SocialAccount, SyncStream
from .selectors import (
    syncstream_error_text,
    syncstream_gap_text,
    syncstream_history_text,
    syncstream_label,
)


class SyncStreamSerializer(MomentoModelSerializer):
    """One stream of an account: its status, its error (``error_code`` and the message
    in the request's language, naming the stream and the retry time), its last gap."""

    label = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    gap = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta:
        model = SyncStream
        fields = [
            "name",
            "label",
            "status",
            "walking",
            "walk_pages",
            "error_code",
            "error",
            "retry_at",
            "failures",
            "gap",
            "gap_since",
            "gap_until",
            "gap_count",
            "history",
            "items_stored",
            "last_synced_at",
        ]
        read_only_fields = fields

    def get_label(self, stream: SyncStream) -> str:
        return syncstream_label(stream.name)

    def get_error(self, stream: SyncStream) -> str:
        return syncstream_error_text(stream)

    def get_gap(self, stream: SyncStream) -> str:
        return syncstream_gap_text(stream)

    def get_history(self, stream: SyncStream) -> str:
        return syncstream_history_text(stream)


class SocialAccountSerializer(MomentoModelSerializer):
    """An account's state and each of its streams; the credentials are write-only and
    never in a response. ``followup_backlog``: stored pages whose ticket and stage rules
    have not run yet."""

    streams = SyncStreamSerializer(many=True, read_only=True)
    followup_backlog = serializers.SerializerMethodField()

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
            "streams",
            "followup_backlog",
            "items_skipped_erased",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_followup_backlog(self, account: SocialAccount) -> int:
        # Annotated by socialaccount_status_list; an account just connected has none.
        return getattr(account, "followup_backlog", 0)


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


class OutboundMessageSerializer(MomentoModelSerializer):
    idempotency_key = serializers.CharField(source="client_key", read_only=True)
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
