"""The REST API's URLs: each app's ``api`` module registers its viewsets on one router
and may add plain ``urlpatterns`` for business actions."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
urlpatterns: list = []
for _name in ("crm.api", "contacts.api", "campaigns.api", "support.api"):
    _module = import_module(_name)
    _module.register(router)
    urlpatterns += getattr(_module, "urlpatterns", [])
urlpatterns += router.urls
