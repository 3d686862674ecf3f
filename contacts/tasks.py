"""The contacts app's Celery tasks: each takes ids and calls a service.

Every task's registered ``name`` is written out: beat rows and messages in flight name
a task by it, so it stays the same when a Python name changes (the to-do reminders kept
``task_reminders_send``). A task that would share a service's name ends in ``_task``."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import scoring, services
from .models import Contact

BATCH = 1000


@shared_task(name="contacts.tasks.contacts_score_refresh")
def contacts_score_refresh_task(contact_ids: list[int]) -> int:
    """Recompute the lead score of these contacts (idempotent)."""
    return scoring.contacts_score_refresh(contact_ids=contact_ids)


@shared_task(name="contacts.tasks.contacts_score_refresh_all")
def contacts_score_refresh_all(after_id: int = 0) -> int:
    """Beat: recompute every score (recency decays with time), a batch at a time; each
    batch queues the next."""
    ids = list(
        Contact.objects.filter(pk__gt=after_id).order_by("pk").values_list("pk", flat=True)[:BATCH]
    )
    if ids:
        contacts_score_refresh_task(ids)
        contacts_score_refresh_all.delay(ids[-1])
    return len(ids)


@shared_task(name="contacts.tasks.task_reminders_send")
def todo_reminders_send_task() -> int:
    """Beat: one in-app notification per to-do that has come due."""
    return services.todo_reminders_send(now=timezone.now())


@shared_task(name="contacts.tasks.contact_import_run", acks_late=True)
def contact_import_run(import_id: int) -> str | None:
    """Import the next batch of a CSV file; queues itself until the file is done.
    Idempotent: the import's ``processed_rows`` says where to resume."""
    more, state = services.contact_import_step(import_id=import_id)
    if more:
        contact_import_run.delay(import_id)
    return state
