from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Social accounts and sync")

    def ready(self) -> None:
        from core.signals import contact_erased

        contact_erased.connect(_on_contact_erased, dispatch_uid="crm.erase_failures")


def _on_contact_erased(sender, *, items: dict[str, list[str]], **kwargs) -> None:
    """An erased person's items that failed to sync keep their payload: drop them."""
    from .models import SyncFailure

    for network, ids in items.items():
        SyncFailure.objects.filter(network=network, external_id__in=ids).delete()
