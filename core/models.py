from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


@cache
def _choice_labels(field: models.Field, language: str | None) -> dict:
    return {
        make_hashable(value): force_str(label, strings_only=True)
        for value, label in field.flatchoices
    }


class ChoiceLabels:
    """A model mixin: ``get_FOO_display()`` reads a label table built once per field
    and language. Django's own builds ``dict(make_hashable(field.flatchoices))`` on
    every call, and hashing each lazy label translates it: a page of 200 timeline items
    spent more time translating every kind than drawing the rows. Same result: the
    label in the active language, the raw value when it is not a choice."""

    def _get_FIELD_display(self, field: models.Field) -> str:
        value = getattr(self, field.attname)
        labels = _choice_labels(field, get_language())
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


class Notification(models.Model):
    """An in-app notification for one user (task reminders, SLA alerts, escalations)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # Lets a producer notify once: (user, dedupe_key) is unique when set.
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Kept from when the model lived in the crm app (a state-only move).
        db_table = "crm_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_once",
            )
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.title
