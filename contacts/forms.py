from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validators import not_in_the_past, validate_currency

from .models import Stage
from .selectors import owner_choices
from .services import IMPORT_FIELDS


class StageChangeForm(forms.Form):
    stage = forms.TypedChoiceField(label=_("Move to stage"), choices=Stage.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class OwnerForm(forms.Form):
    owner = OwnerField(
        label=_("Owner"), queryset=owner_choices(), required=False, empty_label=_("Nobody")
    )


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        return value


class TodoForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=300)
    due_at = forms.DateTimeField(
        label=_("Due"), widget=DateTimeInput(), validators=[not_in_the_past]
    )
    assignee = OwnerField(
        label=_("For"), queryset=owner_choices(), required=False, empty_label=_("Me")
    )


class PurchaseForm(forms.Form):
    product = forms.CharField(label=_("Product"), max_length=300)
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", validators=[validate_currency]
    )
    purchased_at = forms.DateTimeField(label=_("Date"), widget=DateTimeInput(), required=False)
    external_ref = forms.CharField(label=_("Order reference"), max_length=200, required=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("owner", _("Assign owner")),
        ("tag", _("Add tag")),
        ("stage", _("Change stage")),
    ]
    ids = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=[],
        error_messages={"required": _("Tick at least one contact in the list first.")},
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    owner = OwnerField(
        label=_("Owner"), queryset=owner_choices(), required=False, empty_label=_("Nobody")
    )
    tag = forms.CharField(label=_("Tag"), max_length=64, required=False)
    stage = forms.TypedChoiceField(
        label=_("Stage"), choices=[("", "—"), *Stage.choices], coerce=int, required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ids may be posted; the service only touches contacts that exist.
        self.fields["ids"].valid_value = lambda value: True

    def clean(self):
        data = super().clean()
        if data.get("action") == "tag" and not data.get("tag", "").strip():
            self.add_error("tag", _("Name the tag to add."))
        if data.get("action") == "stage" and data.get("stage") in (None, ""):
            self.add_error("stage", _("Choose a stage."))
        if len(data.get("ids") or []) > 500:
            self.add_error("ids", _("Select at most 500 contacts at a time."))
        return data


class MergeForm(forms.Form):
    other_id = forms.IntegerField(label=_("Contact to merge into this one"), min_value=1)


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this contact's personal data will be erased for good."),
        required=True,
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))


class ImportMappingForm(forms.Form):
    """One select per CSV column: which contact field it fills (or none)."""

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— skip —")), *IMPORT_FIELDS.items()]
        self.headers = headers
        for i, header in enumerate(headers):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=initial_mapping.get(header)
            )

    def mapping(self) -> dict[str, str]:
        return {h: self.cleaned_data.get(f"col_{i}", "") for i, h in enumerate(self.headers)}
