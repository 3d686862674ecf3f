"""The API's base classes: every endpoint requires an authenticated user with the
role permission for what it does (see ``core.permissions``)."""

from __future__ import annotations

from rest_framework import viewsets

from .access import scope_for_user


class MomentoViewSet(viewsets.ModelViewSet):
    """CRUD on one model, scoped by ``scope_queryset``: the rows the user may see
    (``core.access``; most models are shared by all staff)."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    #: Set on actions that are not plain CRUD (see ``RolePermission``).
    required_permissions = None
    #: Sort key for keyset pagination, newest first.
    keyset_fields: tuple[str, ...] = ("id",)

    def scope_queryset(self, queryset):
        return scope_for_user(queryset, self.request.user)

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())


class MomentoReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    required_permissions = None
    keyset_fields: tuple[str, ...] = ("id",)

    def scope_queryset(self, queryset):
        return scope_for_user(queryset, self.request.user)

    def get_queryset(self):
        return self.scope_queryset(super().get_queryset())
