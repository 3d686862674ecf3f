"""Agents' corrections of the classifier's labels: kept for the next training run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import Intent, Sentiment

from .timeline import TimelineEntry


class LabelCorrection(models.Model):
    """One agent's correction of an entry's intent and/or sentiment. The text and the
    labels are copied, so the training export does not depend on the entry surviving
    an erasure... except that erasing a contact erases its corrections too (cascade)."""

    entry = models.ForeignKey(
        TimelineEntry,
        on_delete=models.CASCADE,
        related_name="label_corrections",
        verbose_name=_("timeline entry"),
    )
    text = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    previous_intent = models.CharField(_("previous intent"), max_length=16, blank=True)
    previous_sentiment = models.CharField(_("previous sentiment"), max_length=16, blank=True)
    previous_confidence = models.FloatField(_("previous confidence"), null=True, blank=True)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent)
    sentiment = models.CharField(_("sentiment"), max_length=16, choices=Sentiment)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("corrected by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("corrected at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("label correction")
        verbose_name_plural = _("label corrections")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.previous_intent or '?'} → {self.intent} · {self.entry_id}"
