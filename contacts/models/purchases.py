"""What contacts bought (stage 2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.validators import validate_currency

from .people import Contact


class Purchase(models.Model):
    """Something a contact bought: entered by staff or posted by a shop's integration.
    ``(source, external_ref)`` is unique, so a shop may post the same order twice."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="purchases", verbose_name=_("contact")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[validate_currency]
    )
    product = models.CharField(_("product"), max_length=300)
    source = models.CharField(
        _("source"), max_length=100, default="manual", help_text=_("e.g. shop, manual")
    )
    external_ref = models.CharField(
        _("external reference"),
        max_length=200,
        blank=True,
        help_text=_("The order number in the source; unique per source."),
    )
    purchased_at = models.DateTimeField(_("purchased at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~Q(external_ref=""),
                name="purchase_unique_source_ref",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="purchase_amount_positive"),
        ]
        indexes = [models.Index(fields=["contact", "-purchased_at"], name="purchase_contact")]

    def __str__(self) -> str:
        return f"{self.product} · {self.amount} {self.currency}"
