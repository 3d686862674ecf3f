"""Satisfaction surveys: the question sent after a resolution and its single answer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .tickets import Ticket


class CsatSurvey(models.Model):
    """A satisfaction question sent after a resolution, answered once through a signed
    link whose ``nonce`` this row holds (the row makes the link single-use)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="csat_surveys")
    nonce = models.CharField(max_length=32, unique=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=[(i, str(i)) for i in range(1, 6)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="csat_rating_1_to_5",
            )
        ]
        indexes = [models.Index(fields=["answered_at"], name="csat_answered")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rating or '—'}"
