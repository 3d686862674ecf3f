"""The change history of each contact."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .people import Contact


class ContactAudit(models.Model):
    """One change to a contact: who, when, what, and each field's old and new value."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        STAGE = "stage", _("Stage changed")
        MERGE = "merge", _("Merged")
        IMPORT = "import", _("Imported")
        EXPORT = "export", _("Data exported (GDPR)")
        ERASE = "erase", _("Personal data erased (GDPR)")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="audit", verbose_name=_("contact")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=Action)
    # {"field": [old, new], ...}; for merges {"merged": {...}}.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact history entry")
        verbose_name_plural = _("contact history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at", "-id"], name="audit_contact")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.contact_id}"
