from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .search import sqlite_functions_register

        # SQLite search folds accents and case with a function of ours (contacts.search).
        connection_created.connect(sqlite_functions_register, dispatch_uid="contacts.fold")
