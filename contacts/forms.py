from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Stage


class StageChangeForm(forms.Form):
    stage = forms.TypedChoiceField(label=_("Move to stage"), choices=Stage.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
