from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from contacts.filters import contact_filter_register

        from .filters import contact_campaign_filter

        contact_filter_register(contact_campaign_filter())
