from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from contacts.models import Contact, TimelineEntry
from contacts.serializers import TimelineEntrySerializer
from core.choices import Direction
from core.serializers import MomentoModelSerializer
from crm.models import OutboundMessage

from .forms import support_staff
from .models import (
    CannedResponse,
    CsatSurvey,
    Incident,
    Priority,
    SlaPolicy,
    Status,
    Ticket,
    TicketReply,
)


def as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class TicketReplySerializer(MomentoModelSerializer):
    # Read-only like the rest (read_only_fields does not reach declared fields).
    kind = serializers.CharField(source="message.kind", read_only=True)
    text = serializers.CharField(source="message.text", read_only=True)
    state = serializers.CharField(source="message.state", read_only=True)
    account = serializers.CharField(source="message.account.handle", read_only=True)
    url = serializers.URLField(source="message.url", read_only=True)
    sent_at = serializers.DateTimeField(source="message.sent_at", read_only=True)
    entry = serializers.IntegerField(source="message.entry_id", read_only=True)

    class Meta:
        model = TicketReply
        fields = [
            "id",
            "purpose",
            "kind",
            "text",
            "state",
            "account",
            "url",
            "sent_at",
            "entry",
            "created_at",
        ]
        read_only_fields = fields


class CsatSurveySerializer(MomentoModelSerializer):
    class Meta:
        model = CsatSurvey
        fields = ["id", "rating", "comment", "created_at", "answered_at"]
        read_only_fields = fields


class SlaSerializer(serializers.Serializer):
    target = serializers.CharField()
    seconds_left = serializers.FloatField(allow_null=True)
    paused = serializers.BooleanField()
    breached = serializers.BooleanField()


class TicketSerializer(MomentoModelSerializer):
    number = serializers.CharField(read_only=True)
    priority_label = serializers.CharField(source="get_priority_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    account = serializers.StringRelatedField()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sla = SlaSerializer(read_only=True, allow_null=True)
    interactions = TimelineEntrySerializer(many=True, read_only=True)
    replies = TicketReplySerializer(many=True, read_only=True)
    csat = CsatSurveySerializer(source="csat_surveys", many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "contact",
            "network",
            "account",
            "priority",
            "priority_label",
            "status",
            "status_label",
            "assignee",
            "team",
            "incident",
            "opened_by_rule",
            "keywords",
            "created_at",
            "first_response_at",
            "resolved_at",
            "escalated_at",
            "first_response_due_at",
            "resolution_due_at",
            "sla",
            "interactions",
            "replies",
            "csat",
        ]
        read_only_fields = [f for f in fields if f != "subject"]


class TicketCreateSerializer(serializers.Serializer):
    """Open a ticket from an inbound item (``interaction``), or for a contact with a
    subject."""

    interaction = serializers.PrimaryKeyRelatedField(
        queryset=TimelineEntry.objects.select_related("contact", "account", "identity"),
        required=False,
    )
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    def validate(self, attrs):
        entry, contact = attrs.get("interaction"), attrs.get("contact")
        if (entry is None) == (contact is None):
            raise serializers.ValidationError(
                {"interaction": "Give either an interaction or a contact (with a subject)."}
            )
        if entry is not None and (entry.direction != Direction.INBOUND or not entry.network):
            raise serializers.ValidationError(
                {"interaction": "Only messages received from a network go on tickets."}
            )
        if contact is not None and not (attrs.get("subject") or "").strip():
            raise serializers.ValidationError(
                {"subject": "A ticket for a contact needs a subject."}
            )
        return attrs


class AssignInputSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), allow_null=True
    )

    def validate_assignee(self, user):
        if user is not None and not support_staff().filter(pk=user.pk).exists():
            raise serializers.ValidationError("This person cannot work on tickets.")
        return user


class BulkAssignInputSerializer(AssignInputSerializer):
    tickets = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(), many=True, allow_empty=False
    )


class ReplyInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[OutboundMessage.Kind.REPLY, OutboundMessage.Kind.DM],
        default=OutboundMessage.Kind.REPLY,
    )
    text = serializers.CharField(max_length=5000)
    pending = serializers.BooleanField(default=False)
    interaction = serializers.PrimaryKeyRelatedField(
        queryset=TimelineEntry.objects.all(), required=False, allow_null=True
    )


class HandoffInputSerializer(serializers.Serializer):
    public_text = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    dm_text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class PriorityInputSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class EscalateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SlaPolicySerializer(MomentoModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["id", "team", "priority", "first_response_minutes", "resolution_minutes"]


class CannedResponseSerializer(MomentoModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "team", "name", "language", "purpose", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class IncidentSerializer(MomentoModelSerializer):
    tickets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "team",
            "state",
            "keywords",
            "statement",
            "statement_at",
            "final_message",
            "created_at",
            "resolved_at",
            "tickets",
        ]
        read_only_fields = [f for f in fields if f not in ("title", "team", "keywords")]


class IncidentLinkInputSerializer(serializers.Serializer):
    tickets = serializers.PrimaryKeyRelatedField(
        queryset=Ticket.objects.all(), many=True, allow_empty=False
    )


class StatementInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)


class IncidentResolveInputSerializer(serializers.Serializer):
    final_message = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )


class SupportReportSerializer(serializers.Serializer):
    """The report's JSON (see ``support.selectors.support_report``)."""

    def to_representation(self, instance):
        return instance
