from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _on_entries_ingested(sender, *, created_ids, updated_ids, **kwargs) -> None:
    from .services import tickets_apply_rules_for_ingested

    tickets_apply_rules_for_ingested(created_ids=created_ids, updated_ids=updated_ids)


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from core.signals import entries_ingested

        # The ticket rules run in each stored page's follow-up (support.services.rules).
        entries_ingested.connect(_on_entries_ingested, dispatch_uid="support.ticket_rules")
