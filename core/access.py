"""Who may see which row: the one pattern every view and API uses to fetch a resource.

Most of Momento is shared by all staff; where rows belong to someone (a staff member's
personal social account, say), the model's QuerySet says so in ``visible_to(user)``.
Views call ``get_for_user_or_404``; the API base class scopes its querysets the same way.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.shortcuts import get_object_or_404


class ScopedQuerySet(models.QuerySet):
    """A QuerySet whose rows may be scoped to a user. The default shows every row to
    every member of staff; a model that scopes overrides ``visible_to``."""

    def visible_to(self, user: Any) -> ScopedQuerySet:
        return self


def scope_for_user[M: models.Model](queryset: models.QuerySet[M], user: Any) -> models.QuerySet[M]:
    """``queryset`` narrowed to what ``user`` may see (unchanged for unscoped models)."""
    if isinstance(queryset, ScopedQuerySet):
        return queryset.visible_to(user)
    return queryset


def get_for_user_or_404[M: models.Model](queryset: models.QuerySet[M], *, user: Any, pk: Any) -> M:
    """The row ``pk`` of ``queryset`` if ``user`` may see it, else 404 (the same answer
    for a row that does not exist and one that is not theirs)."""
    return get_object_or_404(scope_for_user(queryset, user), pk=pk)
