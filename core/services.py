from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import Notification


def notifications_mark_read(*, user: AbstractBaseUser) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
