"""The REST API's URLs: each app's ``api`` module registers its viewsets on one router
and may add plain ``urlpatterns`` for business actions."""

from importlib import import_module

from django.utils.html import escape
from django.utils.translation import gettext as _
from rest_framework.routers import APIRootView, DefaultRouter


class MomentoAPIRootView(APIRootView):
    """The API root: each resource's URL. Its description (the browsable API, OPTIONS)
    is Momento's, in the reader's language, not DRF's "The default basic root view for
    DefaultRouter"."""

    def get_view_name(self):
        return _("Momento API")

    def get_view_description(self, html=False):
        text = _(
            "Momento's REST API: each resource below. Sign in or send "
            "“Authorization: Token …”; the schema is at /api/schema/ and its documentation "
            "at /api/docs/."
        )
        return f"<p>{escape(text)}</p>" if html else text


class Router(DefaultRouter):
    APIRootView = MomentoAPIRootView


router = Router()
urlpatterns: list = []
for _name in ("crm.api", "contacts.api", "campaigns.api", "support.api"):
    _module = import_module(_name)
    _module.register(router)
    urlpatterns += getattr(_module, "urlpatterns", [])
urlpatterns += router.urls
