"""Incidents: a surge of similar complaints grouped under one title, answered by one
public statement and resolved together."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .teams import Team


class Incident(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    title = models.CharField(_("title"), max_length=200)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.OPEN)
    keywords = models.JSONField(_("topic keywords"), default=list, blank=True)
    statement = models.TextField(_("public statement"), blank=True)
    statement_at = models.DateTimeField(_("statement posted"), null=True, blank=True)
    final_message = models.TextField(_("final message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["team", "state"], name="incident_team_state")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("support:incident", args=[self.pk])
