"""Writes on a whole conversation of the inbox (one person on one network): take it
out of the inbox, or give its waiting items to someone."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, TimelineEntry
from core.choices import QUESTION_KINDS, Direction


def _waiting(contact: Contact, network: str):
    return TimelineEntry.objects.filter(
        contact=contact,
        network=network,
        direction=Direction.INBOUND,
        kind__in=QUESTION_KINDS,
        handled_at__isnull=True,
    )


@transaction.atomic
def conversation_mark_handled(*, contact: Contact, network: str, user: AbstractBaseUser) -> int:
    """Mark every waiting item of the conversation handled; returns how many."""
    return _waiting(contact, network).update(handled_at=timezone.now(), handled_by=user)


@transaction.atomic
def conversation_assign(*, contact: Contact, network: str, user: AbstractBaseUser | None) -> int:
    """Give the conversation's waiting items to ``user`` (None: to nobody)."""
    return _waiting(contact, network).update(assigned_to=user)
