from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def sla_check() -> dict:
    """Beat job (every minute): record SLA warnings and breaches with their alerts,
    then assign tickets that waited for someone under their cap."""
    recorded = services.sla_evaluate(now=timezone.now())
    assigned = services.tickets_assign_waiting()
    return {"recorded": recorded, "assigned": assigned}


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def incident_statement_send(self, incident_id: int, user_id: int | None = None) -> int:
    """Reply an incident's statement to each linked complaint. Idempotent: every reply
    has the key ``incident-<id>-statement-<entry>``, so a retry sends nothing twice."""
    return services.incident_statement_deliver(incident_id=incident_id, user_id=user_id)
