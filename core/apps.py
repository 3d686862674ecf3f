from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    from core.roles import roles_sync

    roles_sync(Group, Permission)


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # After every migrate, whichever app's: the roles get the permissions of models
        # added since (see core.roles).
        post_migrate.connect(_sync_roles, dispatch_uid="core.sync_roles")
        from . import checks  # noqa: F401  (registers the system checks)
