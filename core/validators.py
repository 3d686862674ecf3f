"""Validators shared by models, forms and serializers."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: ISO 4217 codes that are not money: "no currency" and "for testing".
_NOT_MONEY = {"XXX", "XTS"}


@cache
def iso_currencies() -> frozenset[str]:
    """ISO 4217 currency codes (Unicode CLDR's list, shipped with babel)."""
    return frozenset(code for code in list_currencies() if code not in _NOT_MONEY)


def validate_currency(value: str) -> None:
    """An ISO 4217 code, any case (``eur`` is stored as ``EUR``)."""
    if not isinstance(value, str) or value.upper() not in iso_currencies():
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code (e.g. EUR, USD, MXN)."),
            code="invalid_currency",
            params={"value": str(value)[:10]},
        )


#: How far in the past a time may be and still mean "now" (a form filled a minute ago).
PAST_GRACE = timedelta(minutes=5)


def not_in_the_past(value: datetime | None) -> None:
    """Refuse a time that has passed: a post scheduled or a to-do due in the past was
    accepted silently (sent at once, or overdue from the start)."""
    if value is not None and value < timezone.now() - PAST_GRACE:
        raise ValidationError(
            _("This time has already passed; choose a time from now on."), code="past"
        )
