"""Canned responses: reusable answers with variables, per team (or for all), language
and purpose."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .teams import Team


class CannedResponse(models.Model):
    """A reusable answer with variables such as {contact_name} (see ``VARIABLES``)."""

    class Purpose(models.TextChoices):
        GENERAL = "general", _("Reply")
        HANDOFF_PUBLIC = "handoff_public", _("Handoff: public acknowledgement")
        HANDOFF_DM = "handoff_dm", _("Handoff: direct message")
        RESOLUTION = "resolution", _("Resolution")
        CSAT = "csat", _("Satisfaction survey")

    VARIABLES = (
        "contact_name",
        "ticket_number",
        "agent_name",
        "phone",
        "form_url",
        "help_url",
        "csat_link",
    )

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose, default=Purpose.GENERAL
    )
    body = models.TextField(
        _("text"),
        help_text=_(
            "Variables: {contact_name}, {ticket_number}, {agent_name}, {phone}, {form_url}, "
            "{help_url}, {csat_link}."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["purpose", "language", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
