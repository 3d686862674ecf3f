from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from support.services.rules import RULE_COMPLAINT, RULE_DM

register = template.Library()


@register.filter
def rule_label(name: str) -> str:
    """The name of the rule that opened a ticket, in the user's language. The built-in
    rules store their English names (``opened_by_rule``); any other name is shown as
    stored."""
    labels = {RULE_DM: _("Inbound direct message"), RULE_COMPLAINT: _("Complaint from a customer")}
    return labels.get(name, name)


@register.filter
def duration(seconds) -> str:
    """Seconds as "2d 3h", "1h 05m" or "12m" (absolute value)."""
    if seconds is None:
        return "—"
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)02dm") % {"h": hours, "m": minutes}
    return _("%(m)sm") % {"m": minutes}
