"""The contacts app's HTML pages, one module per page or flow (``urls.py`` names them):
``lists`` (list, bulk actions, CSV export), ``contact`` (a contact's page), ``board``
(the pipeline), ``todos``, ``imports`` and ``gdpr``."""
