from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.choices import Network
from core.serializers import MomentoModelSerializer
from core.validators import not_in_the_past
from crm.models import SocialAccount

from .models import Campaign, CampaignMatch, ListeningRule, ScheduledPost, TrackedLink
from .services import (
    listening_rule_save,
    scheduled_post_create,
    tracked_link_check,
    tracked_link_save,
)


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(Network.values)}})
class NetworkListField(serializers.ListField):
    """Network codes. Described inline: the shared ``NetworkEnum`` component would get a
    second name from this field's name otherwise."""

    child = serializers.ChoiceField(choices=Network.choices)


def _drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class CampaignSerializer(MomentoModelSerializer):
    accounts = serializers.PrimaryKeyRelatedField(
        many=True, queryset=SocialAccount.objects.all(), required=False
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "goal",
            "starts_at",
            "ends_at",
            "owner",
            "accounts",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is None and "starts_at" not in attrs:
            # The model's default, taken here so the check below sees what is stored.
            attrs["starts_at"] = timezone.now()
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": "The end must be after the start."})
        return attrs


class ListeningRuleSerializer(MomentoModelSerializer):
    networks = NetworkListField(required=False)
    queries = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ListeningRule
        fields = [
            "id",
            "campaign",
            "name",
            "keywords",
            "phrases",
            "hashtags",
            "excluded_words",
            "language",
            "networks",
            "active",
            "queries",
            "matched_count",
            "last_run_at",
            "last_error",
        ]
        read_only_fields = ["id", "matched_count", "last_run_at", "last_error"]

    def validate(self, attrs):
        rule = ListeningRule(**{**self._current(), **attrs})
        if not rule.queries():
            raise serializers.ValidationError(
                {"keywords": "Give at least one keyword, phrase or hashtag."}
            )
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f: getattr(self.instance, f) for f in ("keywords", "phrases", "hashtags")}

    def create(self, validated_data):
        return self._save(ListeningRule(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, rule: ListeningRule, data: dict) -> ListeningRule:
        for name, value in data.items():
            setattr(rule, name, value)
        try:
            return listening_rule_save(rule=rule)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None


class TrackedLinkSerializer(MomentoModelSerializer):
    code = serializers.SlugField(max_length=32, required=False)
    short_url = serializers.CharField(read_only=True)
    target_url = serializers.SerializerMethodField()

    class Meta:
        model = TrackedLink
        fields = [
            "id",
            "campaign",
            "code",
            "destination",
            "account",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "short_url",
            "target_url",
            "click_count",
            "created_at",
        ]
        read_only_fields = ["id", "click_count", "created_at"]

    def get_target_url(self, link) -> str:
        return link.target_url()

    def validate(self, attrs):
        try:
            tracked_link_check(link=TrackedLink(**{**self._current(), **attrs}))
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {
            "pk": self.instance.pk,
            "campaign": self.instance.campaign,
            "destination": self.instance.destination,
        }

    def create(self, validated_data):
        return self._save(TrackedLink(), validated_data, user=self.context["request"].user)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, link: TrackedLink, data: dict, *, user=None) -> TrackedLink:
        for name, value in data.items():
            setattr(link, name, value)
        try:
            return tracked_link_save(link=link, user=user)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None


class ScheduledPostSerializer(MomentoModelSerializer):
    state = serializers.ChoiceField(choices=ScheduledPost.State.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    url = serializers.URLField(source="outbound.url", read_only=True)
    sent_at = serializers.DateTimeField(source="outbound.sent_at", read_only=True)
    idempotency_key = serializers.CharField(
        write_only=True, required=False, max_length=60, help_text="Repeat a request safely."
    )

    class Meta:
        model = ScheduledPost
        fields = [
            "id",
            "campaign",
            "account",
            "text",
            "link",
            "send_at",
            "state",
            "reason",
            "url",
            "sent_at",
            "idempotency_key",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"send_at": {"validators": [not_in_the_past]}}

    def create(self, validated_data):
        try:
            return scheduled_post_create(
                campaign=validated_data["campaign"],
                account=validated_data["account"],
                text=validated_data["text"],
                send_at=validated_data["send_at"],
                link=validated_data.get("link"),
                user=self.context["request"].user,
                idempotency_key=validated_data.get("idempotency_key", ""),
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None


class CampaignMatchSerializer(MomentoModelSerializer):
    contact = serializers.IntegerField(source="entry.contact_id", read_only=True)
    author = serializers.SerializerMethodField()
    network = serializers.CharField(source="entry.network", read_only=True)
    external_id = serializers.CharField(source="entry.external_id", read_only=True)
    text = serializers.CharField(source="entry.text", read_only=True)
    url = serializers.CharField(source="entry.url", read_only=True)

    class Meta:
        model = CampaignMatch
        fields = [
            "id",
            "entry",
            "contact",
            "author",
            "network",
            "external_id",
            "text",
            "url",
            "occurred_at",
            "query",
            "rule",
            "state",
            "liked",
            "replied",
            "followed",
            "created_at",
        ]
        read_only_fields = fields

    def get_author(self, match) -> str | None:
        identity = match.entry.identity
        return identity.handle if identity else None


class FunnelRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    discovered = serializers.IntegerField()
    leads = serializers.IntegerField()
    customers = serializers.IntegerField()
    lead_rate = serializers.FloatField(allow_null=True)
    customer_rate = serializers.FloatField(allow_null=True)
    conversion_rate = serializers.FloatField(allow_null=True)
    median_days_to_lead = serializers.FloatField(allow_null=True)
    median_days_to_customer = serializers.FloatField(allow_null=True)
    purchases = serializers.IntegerField()
    revenue = serializers.DictField(child=serializers.CharField(), help_text="Per currency.")
    tickets = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    touch = serializers.CharField()
    total = FunnelRowSerializer()
    accounts = FunnelRowSerializer(many=True)
