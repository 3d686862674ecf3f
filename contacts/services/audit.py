"""A contact's change history (``ContactAudit``): which fields are audited, how a value
is written down, and the one function that records an entry."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from contacts.models import Contact, ContactAudit

#: The contact fields whose changes are written to the audit history.
AUDITED_FIELDS = ("display_name", "email", "phone", "company", "language", "owner")


def audit_value(value: Any) -> Any:
    """``value`` as the history stores it (JSON): a user by username, dates and amounts
    as text."""
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    if isinstance(value, datetime | Decimal):
        return str(value)
    return value


def audit_record(
    *,
    contact: Contact,
    actor: AbstractBaseUser | None,
    action: str,
    changes: dict | None = None,
    note: str = "",
) -> ContactAudit:
    return ContactAudit.objects.create(
        contact=contact, actor=actor, action=action, changes=changes or {}, note=note[:500]
    )
