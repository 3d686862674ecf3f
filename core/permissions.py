"""The API's default permission: an authenticated user holding the role permission
for what the request does. Kept apart from views so DRF settings import it early."""

from __future__ import annotations

from rest_framework import permissions


class RolePermission(permissions.DjangoModelPermissions):
    """Model permissions, including ``view`` for reads. Views without a queryset
    declare ``required_permissions`` (a mapping of HTTP method to permission names, or
    one tuple for all methods)."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        required = getattr(view, "required_permissions", None)
        if required is not None:
            if isinstance(required, dict):
                required = required.get(request.method, required.get("*", ()))
            return user.has_perms(required)
        if getattr(view, "_ignore_model_permissions", False):
            return True
        return super().has_permission(request, view)
