from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _on_entries_ingested(sender, *, account, created_ids, updated_ids, **kwargs) -> None:
    """Ticket rules for what sync just stored: new items open or join tickets, refreshed
    engagement may escalate them (inside the page's transaction)."""
    from contacts.models import TimelineEntry

    from .services import (
        CONVERSATION_KINDS,
        tickets_escalate_for_entries,
        tickets_open_for_entries,
    )

    if created_ids:
        tickets_open_for_entries(
            entries=TimelineEntry.objects.filter(
                pk__in=created_ids, direction="in", kind__in=CONVERSATION_KINDS
            ).defer("raw")
        )
    if updated_ids:
        tickets_escalate_for_entries(
            entries=TimelineEntry.objects.filter(
                pk__in=updated_ids, direction="in", intent="complaint"
            ).defer("raw")
        )


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from core.signals import entries_ingested

        entries_ingested.connect(_on_entries_ingested, dispatch_uid="support.ticket_rules")
