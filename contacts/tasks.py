from __future__ import annotations

from celery import shared_task
from django.utils import timezone

BATCH = 1000


@shared_task
def contacts_score_refresh(contact_ids: list[int]) -> int:
    """Recompute the lead score of these contacts (idempotent)."""
    from .scoring import contacts_score_refresh as refresh

    return refresh(contact_ids=contact_ids)


@shared_task
def contacts_score_refresh_all(after_id: int = 0) -> int:
    """Beat: recompute every score (recency decays with time), a batch at a time; each
    batch queues the next."""
    from .models import Contact

    ids = list(
        Contact.objects.filter(pk__gt=after_id).order_by("pk").values_list("pk", flat=True)[:BATCH]
    )
    if ids:
        contacts_score_refresh(ids)
        contacts_score_refresh_all.delay(ids[-1])
    return len(ids)


@shared_task
def task_reminders_send() -> int:
    """Beat: one in-app notification per task that has come due."""
    from .services import task_reminders_send as send

    return send(now=timezone.now())


@shared_task(acks_late=True)
def contact_import_run(import_id: int) -> str | None:
    """Import the next batch of a CSV file; queues itself until the file is done.
    Idempotent: the import's ``processed_rows`` says where to resume."""
    from .imports import contact_import_step

    more, state = contact_import_step(import_id=import_id)
    if more:
        contact_import_run.delay(import_id)
    return state
