from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .keyset import InvalidCursor, keyset_page


class KeysetPagination(BasePagination):
    """Cursor pagination on a view's ``keyset_fields`` (default ``("id",)``), newest
    first. Responses are ``{"next": url|null, "results": [...]}``."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        fields = getattr(view, "keyset_fields", ("id",))
        size = self.page_size
        if raw := request.query_params.get(self.page_size_query_param):
            try:
                size = max(1, min(int(raw), self.max_page_size))
            except ValueError:
                raise ValidationError({self.page_size_query_param: "Must be an integer."}) from None
        try:
            page = keyset_page(
                queryset,
                fields=fields,
                cursor=request.query_params.get(self.cursor_query_param),
                size=size,
            )
        except InvalidCursor:
            raise ValidationError({self.cursor_query_param: "Invalid cursor."}) from None
        self.request = request
        self.next_cursor = page.next_cursor
        return page.items

    def get_next_link(self):
        if not self.next_cursor:
            return None
        return replace_query_param(
            self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor
        )

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (1–{self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]
