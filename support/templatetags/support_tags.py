from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


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
