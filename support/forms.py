from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.params import ascii_ints
from core.roles import MANAGER, SUPPORT
from crm.models import OutboundMessage

from .models import Priority, Status


def support_staff():
    """People who can work on tickets."""
    return (
        get_user_model()
        .objects.filter(
            Q(groups__name__in=(SUPPORT, MANAGER)) | Q(is_superuser=True), is_active=True
        )
        .distinct()
        .order_by("username")
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=support_staff(), required=False, label=_("Assign to"), empty_label=_("Nobody")
    )


class BulkAssignForm(AssignForm):
    tickets = forms.CharField(widget=forms.MultipleHiddenInput, required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.ticket_ids = ascii_ints(data.getlist("tickets") if data else [])

    def clean(self):
        cleaned = super().clean()
        if not self.ticket_ids:
            raise forms.ValidationError(_("Choose at least one ticket."))
        return cleaned


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[
            (OutboundMessage.Kind.REPLY, _("Public reply")),
            (OutboundMessage.Kind.DM, _("Direct message")),
        ],
    )
    text = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}), max_length=5000
    )
    pending = forms.BooleanField(label=_("Then wait for the customer"), required=False)


class HandoffForm(forms.Form):
    public_text = forms.CharField(
        label=_("Public acknowledgement"),
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        max_length=1000,
    )
    dm_text = forms.CharField(
        label=_("Direct message"),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        max_length=5000,
    )


class ResolveForm(forms.Form):
    message = forms.CharField(
        label=_("Final message (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        max_length=5000,
    )


class StatusForm(forms.Form):
    """The ticket's status, its current one selected. "Resolved" is offered only while
    the ticket is resolved (it is reached with "Resolve and ask for a rating"), so the
    select never shows a status the ticket does not have; "Open" then reads "Reopen"."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)

    def __init__(self, *args, current: str | None = None, **kwargs):
        if current is not None:
            kwargs.setdefault("initial", {"status": current})
        super().__init__(*args, **kwargs)
        if current is None:
            return
        choices = [c for c in Status.choices if c[0] != Status.RESOLVED or current == c[0]]
        if current in {Status.RESOLVED, Status.CLOSED}:
            choices = [(v, _("Reopen") if v == Status.OPEN else label) for v, label in choices]
        self.fields["status"].choices = choices


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("Public statement"),
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        max_length=1000,
    )


class IncidentResolveForm(forms.Form):
    final_message = forms.CharField(
        label=_("Final message to every ticket"),
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        max_length=1000,
    )


class CsatForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with our help?"),
        # Each radio says what its number means (a bare 1–5 tells a screen reader nothing).
        choices=[
            (1, _("1 · Very dissatisfied")),
            (2, _("2 · Dissatisfied")),
            (3, _("3 · Neither satisfied nor dissatisfied")),
            (4, _("4 · Satisfied")),
            (5, _("5 · Very satisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you want to tell us? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        max_length=2000,
    )
