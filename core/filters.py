"""The API's filter backend: django-filter's, without its cost where a request filters
nothing."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.settings import api_settings


class FilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend`` that answers a request naming no query parameter but the
    page's (``cursor``, ``page_size``) and ``format`` with the queryset as it is: what
    the FilterSet would give (every filter passes an empty value through), without
    copying its filters and building and validating its form on every page of a list.
    Any other parameter, known or not, goes through the FilterSet as before."""

    def filter_queryset(self, request, queryset, view):
        ignored = {api_settings.URL_FORMAT_OVERRIDE}
        paginator = getattr(view, "paginator", None)
        for attribute in ("cursor_query_param", "page_size_query_param"):
            if name := getattr(paginator, attribute, None):
                ignored.add(name)
        if not set(request.query_params) - ignored:
            return queryset
        return super().filter_queryset(request, queryset, view)
