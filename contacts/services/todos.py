"""To-dos (``Todo``, "tasks" in the UI): follow-ups on a contact for a member of staff,
put on the contact's timeline when created, and a reminder notification when due."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, Todo, timeline_event_record
from core.choices import EntryKind
from core.models import Notification


@transaction.atomic
def todo_create(
    *,
    contact: Contact,
    title: str,
    due_at: datetime,
    assignee: AbstractBaseUser | None,
    actor: AbstractBaseUser | None,
) -> Todo:
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A task needs a title.")})
    todo = Todo.objects.create(
        contact=contact, title=title, due_at=due_at, assignee=assignee, created_by=actor
    )
    timeline_event_record(
        contact_id=contact.pk,
        kind=EntryKind.TODO,
        subject=todo,
        text=title,
        actor=actor,
        raw={"due_at": due_at.isoformat(), "assignee": assignee and assignee.get_username()},
    )
    return todo


def todo_complete(*, todo: Todo, done: bool = True) -> Todo:
    """Mark ``todo`` done (or open again); idempotent."""
    if done and todo.done_at is None:
        todo.done_at = timezone.now()
        todo.save(update_fields=["done_at"])
    elif not done and todo.done_at is not None:
        todo.done_at = None
        todo.save(update_fields=["done_at"])
    return todo


def todo_reminders_send(*, now: datetime, limit: int = 500) -> int:
    """Notify each assignee once of their to-dos that have come due. The notification's
    ``dedupe_key`` makes a second run (or a concurrent beat) a no-op."""
    due = list(
        Todo.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now)
        .exclude(assignee__isnull=True)
        .select_related("contact")
        .order_by("due_at")[:limit]
    )
    if not due:
        return 0
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=todo.assignee_id,
                title=_("Task due: %(title)s") % {"title": todo.title},
                body=todo.contact.display_name,
                url=f"/contacts/{todo.contact_id}/#tasks",
                # Kept from before the rename: a changed key would notify again.
                dedupe_key=f"task-due:{todo.pk}",
            )
            for todo in due
        ],
        ignore_conflicts=True,
    )
    Todo.objects.filter(pk__in=[t.pk for t in due]).update(reminded_at=now)
    return len(due)
