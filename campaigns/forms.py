from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.choices import Network
from core.validators import not_in_the_past
from crm.models import SocialAccount

from .models import Campaign, ListeningRule, TrackedLink

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "goal", "starts_at", "ends_at", "owner", "accounts", "active"]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "accounts": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = SocialAccount.objects.select_related("user").order_by(
            "network", "kind", "handle"
        )


class ListeningRuleForm(forms.ModelForm):
    networks = forms.MultipleChoiceField(
        label=_("Networks"),
        choices=Network.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every network the campaign has an account on."),
    )

    class Meta:
        model = ListeningRule
        fields = [
            "name",
            "keywords",
            "phrases",
            "hashtags",
            "excluded_words",
            "language",
            "networks",
            "active",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("keywords", "phrases", "hashtags", "excluded_words")
        }


class TrackedLinkForm(forms.ModelForm):
    class Meta:
        model = TrackedLink
        fields = [
            "destination",
            "account",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
        ]

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.campaign = campaign
        self.fields["account"].queryset = campaign.accounts.all()


class ScheduledPostForm(forms.Form):
    accounts = forms.ModelMultipleChoiceField(
        label=_("Post through"),
        queryset=SocialAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Put {link} where the tracked link goes; without it, the link is added at the end."
        ),
    )
    link = forms.ModelChoiceField(
        label=_("Tracked link"), queryset=TrackedLink.objects.none(), required=False
    )
    send_at = forms.DateTimeField(
        label=_("Send at"), widget=DateTimeLocalInput(), validators=[not_in_the_past]
    )
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("nonce", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = campaign.accounts.all()
        self.fields["link"].queryset = campaign.links.all()


class ReplyForm(forms.Form):
    account = forms.ModelChoiceField(queryset=SocialAccount.objects.all())
    text = forms.CharField(max_length=5000)
    nonce = forms.CharField(required=False, max_length=40)


class AccountForm(forms.Form):
    account = forms.ModelChoiceField(queryset=SocialAccount.objects.all())
