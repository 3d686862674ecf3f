from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SimulateForm(forms.Form):
    """What a demo customer writes to the brand on the demo server."""

    KINDS = [("post", _("A public post mentioning the brand")), ("dm", _("A direct message"))]

    customer = forms.ChoiceField(label=_("Customer"))
    kind = forms.ChoiceField(label=_("Send as"), choices=KINDS, initial="post")
    text = forms.CharField(
        label=_("Message"), max_length=450, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, customers: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [
            (c["username"], f"{c['display_name']} (@{c['username']})") for c in customers
        ]
