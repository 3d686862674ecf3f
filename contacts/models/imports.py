"""CSV imports of contacts, run by a task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import ScopedQuerySet


class ContactImportQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> ContactImportQuerySet:
        # An import holds its uploader's file (personal data): only they see it.
        return self.filter(created_by=user)


class ContactImport(models.Model):
    """A CSV file being imported by a Celery task, with its progress and row errors."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Choosing columns")
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    content = models.TextField(_("CSV"))
    # CSV column → contact field ("display_name", "email", ..., or "" to skip).
    mapping = models.JSONField(_("column mapping"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.DRAFT)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_erased_count = models.PositiveIntegerField(_("skipped: erased"), default=0)
    # [{"row": 3, "errors": {"email": ["Enter a valid email address."]}}, ...]
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ContactImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename or self.pk} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 100
