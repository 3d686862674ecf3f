from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import Notification

#: Notifications listed on the notifications page (the newest).
NOTIFICATIONS_SHOWN = 100


def notifications_for_user(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at")[:NOTIFICATIONS_SHOWN]
