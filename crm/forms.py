from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.choices import QUESTION_KINDS, REACTION_KINDS, Network

from .models import SocialAccount
from .services import CREDENTIAL_KEYS, NEEDS_BASE_URL

#: Every credential field the connect form may show; each network uses some of them.
CREDENTIAL_LABELS = {
    "app_password": _("App password"),
    "access_token": _("Access token"),
    "consumer_key": _("API key (consumer key)"),
    "consumer_secret": _("API key secret (consumer secret)"),
    "access_token_secret": _("Access token secret"),
    "bearer_token": _("Bearer token"),
    "app_secret": _("App secret"),
    "verify_token": _("Webhook verify token"),
    "client_id": _("OAuth client ID"),
    "client_secret": _("OAuth client secret"),
    "refresh_token": _("Refresh token"),
}


def _secret_field(label) -> forms.CharField:
    # render_value=False: a secret typed once is never sent back to the browser.
    return forms.CharField(
        label=label,
        required=False,
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class SocialAccountConnectForm(forms.Form):
    """Connect one of our accounts; only the chosen network's credential fields show."""

    network = forms.ChoiceField(label=_("Network"), choices=Network.choices)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=SocialAccount.Kind.choices, initial=SocialAccount.Kind.BRAND
    )
    user = forms.ModelChoiceField(
        label=_("Staff member (personal accounts)"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    handle = forms.CharField(label=_("Handle"), max_length=255)
    base_url = forms.URLField(
        label=_("Server URL"),
        required=False,
        max_length=500,
        help_text=_("Your Bluesky PDS or Mastodon instance, e.g. https://mastodon.social"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in CREDENTIAL_LABELS.items():
            self.fields[name] = _secret_field(label)

    @property
    def chosen_network(self) -> str:
        value = self.data.get("network") if self.is_bound else self.initial.get("network")
        return value if value in Network.values else Network.BLUESKY

    @property
    def needs_base_url(self) -> bool:
        """Only Bluesky and Mastodon have servers of the user's choosing."""
        return self.chosen_network in NEEDS_BASE_URL

    def credential_fields(self) -> list:
        keys = CREDENTIAL_KEYS[self.chosen_network]
        return [self[name] for name in CREDENTIAL_LABELS if name in keys]

    def credentials(self) -> dict[str, str]:
        keys = CREDENTIAL_KEYS[self.cleaned_data["network"]]
        return {k: self.cleaned_data.get(k) or "" for k in keys}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's field messages on this form's fields (credentials on the
        chosen network's first secret field)."""
        for field, messages in exc.message_dict.items():
            target = field if field in self.fields else None
            if field == "credentials":
                target = next(iter(self.credential_fields()), None)
                target = target.name if target is not None else None
            for message in messages:
                self.add_error(target, message)


class InboxFilterForm(forms.Form):
    network = forms.ChoiceField(
        label=_("Network"), choices=[("", _("All networks")), *Network.choices], required=False
    )
    account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=SocialAccount.objects.order_by("network", "handle"),
        required=False,
        empty_label=_("All accounts"),
    )
    kind = forms.MultipleChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in (*QUESTION_KINDS, *REACTION_KINDS)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reactions = forms.BooleanField(label=_("Include likes, reposts and follows"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)

    def selected(self, user) -> dict:
        """Keyword arguments for ``crm.selectors.inbox_queryset``."""
        data = self.cleaned_data if self.is_valid() else {}
        kinds = data.get("kind") or []
        return {
            "network": data.get("network") or "",
            "account": data.get("account"),
            "kinds": kinds,
            "include_reactions": bool(data.get("reactions"))
            or any(k in {r.value for r in REACTION_KINDS} for k in kinds),
            "assigned_to": user if data.get("mine") else None,
        }


class AnswerForm(forms.Form):
    """A reply or DM to one inbound item. The idempotency key is made when the form is
    drawn, so submitting the same form twice sends once."""

    text = forms.CharField(
        label=_("Answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"})
    )
    private = forms.TypedChoiceField(
        label=_("Send as"),
        choices=[("0", _("Public reply")), ("1", _("Direct message"))],
        coerce=lambda v: v == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    idempotency_key = forms.CharField(
        max_length=100, required=False, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex
    )

    def __init__(self, *args, modes: tuple[str, ...] = ("public", "dm"), **kwargs):
        super().__init__(*args, **kwargs)
        mode = {"0": "public", "1": "dm"}
        field = self.fields["private"]
        field.choices = [(v, label) for v, label in field.choices if mode[v] in modes]
        if field.choices:
            field.initial = field.choices[0][0]
