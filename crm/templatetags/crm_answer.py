"""``{% answer_form entry as form %}``: the reply/DM form for one inbound item, or None
when it cannot be answered (not received through one of our accounts)."""

from __future__ import annotations

from django import template

from crm.forms import AnswerForm
from crm.services import answer_modes

register = template.Library()


@register.simple_tag
def answer_form(entry) -> AnswerForm | None:
    modes = answer_modes(entry)
    return AnswerForm(modes=modes, prefix=f"answer{entry.pk}") if modes else None
