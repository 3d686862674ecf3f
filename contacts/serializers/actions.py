"""The API's business actions (stage, notes, merge, export, erase, purchases, imports):
what each takes in and what it answers. Each input serializer's ``save`` calls one
service."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from contacts import services
from contacts.models import Contact, SocialIdentity, Stage
from core.parsers import BoundedJSONDecoder
from core.validators import validate_currency


class StageChangeInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    def save(self, *, contact, actor):
        try:
            return services.contact_change_stage(
                contact=contact,
                stage=self.validated_data["stage"],
                actor=actor,
                reason=self.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class NoteInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)

    def save(self, *, contact, author):
        try:
            return services.contact_add_note(
                contact=contact, author=author, text=self.validated_data["text"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None


class MergeInputSerializer(serializers.Serializer):
    other_id = serializers.IntegerField(min_value=1)

    def validate_other_id(self, value):
        if not Contact.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No contact with this id.")
        return value


class MergeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The merged (now deleted) contact's id.")
    display_name = serializers.CharField()
    email = serializers.CharField()
    stage = serializers.IntegerField()
    moved = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows moved, by table."
    )


class EraseResultSerializer(serializers.Serializer):
    timeline_entries = serializers.IntegerField()
    identities = serializers.IntegerField()


class ContactExportSerializer(serializers.Serializer):
    contact = serializers.DictField()
    exported_at = serializers.DateTimeField()
    related = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Rows of every table that refers to the contact, by table.",
    )


class PurchaseInputSerializer(serializers.Serializer):
    """A purchase for ``contact`` (an id), or for ``network`` + ``handle`` when the shop
    knows only the buyer's handle (a contact is created if nobody has it yet)."""

    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False)
    network = serializers.ChoiceField(
        choices=SocialIdentity._meta.get_field("network").choices, required=False
    )
    handle = serializers.CharField(max_length=255, required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.CharField(
        max_length=3, default="EUR", validators=[validate_currency], help_text="ISO 4217."
    )
    product = serializers.CharField(max_length=300)
    source = serializers.CharField(max_length=100, default="api")
    external_ref = serializers.CharField(max_length=200, allow_blank=True, default="")
    purchased_at = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        by_handle = bool(attrs.get("network")) or bool(attrs.get("handle"))
        if attrs.get("contact") and by_handle:
            raise serializers.ValidationError(
                {"contact": "Give either contact or network and handle, not both."}
            )
        handle = attrs.get("handle", "").strip().lstrip("@")
        if not attrs.get("contact") and not (attrs.get("network") and handle):
            raise serializers.ValidationError(
                {"contact": "Give a contact id, or network and handle."}
            )
        return attrs

    def save(self, *, actor):
        data = dict(self.validated_data)
        with transaction.atomic():
            contact = data.pop("contact", None) or services.contact_for_handle(
                network=data.pop("network"), handle=data.pop("handle"), actor=actor
            )
            data.pop("network", None)
            data.pop("handle", None)
            return services.purchase_record(contact=contact, actor=actor, **data)


class ContactImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    mapping = serializers.JSONField(
        required=False,
        decoder=BoundedJSONDecoder,
        help_text='CSV column → contact field, e.g. {"Nombre": "display_name"}; '
        "guessed from the header when left out.",
    )

    def validate_mapping(self, mapping):
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise serializers.ValidationError(
                'An object of column names to field names, e.g. {"Nombre": "display_name"}.'
            )
        return mapping
