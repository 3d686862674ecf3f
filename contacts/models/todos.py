"""To-dos: follow-ups on a contact for a member of staff (called "tasks" in the UI and
the API; "to-do" in the code, so they are never read as Celery tasks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .people import Contact


class Todo(models.Model):
    """A follow-up on a contact, due at a time, for one member of staff."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="todos", verbose_name=_("contact")
    )
    title = models.CharField(_("title"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_todos",
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # Set when the reminder notification is created (beat: ``todo_reminders_send``).
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The UI's word for a to-do is "task".
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="todo_mine"),
            models.Index(fields=["contact", "due_at"], name="todo_contact"),
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                name="todo_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()
