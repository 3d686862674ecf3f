"""The API's base classes: every endpoint requires an authenticated user with the
role permission for what it does (see ``core.permissions``)."""

from __future__ import annotations

from rest_framework import viewsets


class MomentoViewSet(viewsets.ModelViewSet):
    """CRUD on one model, scoped by ``scope_queryset`` (all staff share one CRM today;
    the hook is where per-team scoping goes)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    #: Set on actions that are not plain CRUD (see ``RolePermission``).
    required_permissions = None
    #: Sort key for keyset pagination, newest first.
    keyset_fields: tuple[str, ...] = ("id",)

    def scope_queryset(self, queryset):
        return queryset

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())


class MomentoReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    required_permissions = None
    keyset_fields: tuple[str, ...] = ("id",)

    def scope_queryset(self, queryset):
        return queryset

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())
