"""Validators forms and serializers share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

#: How far in the past a time may be and still mean "now" (a form filled a minute ago).
PAST_GRACE = timedelta(minutes=5)


def not_in_the_past(value: datetime | None) -> None:
    """Refuse a time that has passed: a post scheduled or a to-do due in the past was
    accepted silently (sent at once, or overdue from the start)."""
    if value is not None and value < timezone.now() - PAST_GRACE:
        raise ValidationError(
            _("This time has already passed; choose a time from now on."), code="past"
        )
