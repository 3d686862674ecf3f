"""Keyset ("seek") pagination: the one cursor format, page function and DRF paginator.

A cursor is an opaque, URL-safe encoding of the last row's sort key. Pages are read
with a seek condition, never OFFSET, so the 1,000th page costs what the first does.
Django's usual ``Q(a__lt=x) | Q(a=x, id__lt=y)`` is only applied as a filter by
PostgreSQL, so it slows with depth; adding ``a__lte=x`` makes it an index condition.

A cursor comes from the client: anything malformed is ``InvalidCursor`` — a 404 for a
page (``keyset_page_or_404``), a 400 with a field message in the API
(``KeysetPagination``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connections
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .params import ascii_int

__all__ = [
    "InvalidCursor",
    "KeysetPagination",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "keyset_page",
    "keyset_page_or_404",
    "parse_cursor_value",
]


class InvalidCursor(ValueError):
    pass


#: A cursor holds a few short sort keys; anything longer is not one of ours.
MAX_CURSOR_LENGTH = 1024
#: The range of a PostgreSQL bigint: an id or a count outside it matches no row.
_BIGINT = 2**63


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("Malformed cursor.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise InvalidCursor("Malformed cursor.") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("Malformed cursor.")
    return values


@dataclass
class Page:
    items: list[Model]
    next_cursor: str | None


def parse_cursor_value(qs: QuerySet, field: str, value: Any) -> Any:
    """A cursor value for ``field`` of ``qs``'s model, checked against the field's type
    (a cursor comes from the client: anything else is ``InvalidCursor``)."""
    internal = qs.model._meta.get_field(field).get_internal_type()
    if internal == "DateTimeField":
        return _cursor_datetime(value)
    if internal.endswith("IntegerField") or internal.endswith("AutoField"):
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= _BIGINT:
            raise InvalidCursor("Malformed cursor.")
    elif not isinstance(value, str) or "\x00" in value:
        # PostgreSQL text cannot hold NUL.
        raise InvalidCursor("Malformed cursor.")
    return value


def _cursor_datetime(value: Any):
    """An aware datetime from a cursor, in UTC. A well-formed string can still name an
    impossible date (30 February) or one that leaves the calendar when moved to UTC:
    every such cursor is ``InvalidCursor``."""
    if not isinstance(value, str):
        raise InvalidCursor("Malformed cursor.")
    try:
        parsed = parse_datetime(value)
        parsed = parsed.astimezone(UTC) if parsed and parsed.tzinfo else None
    except (ValueError, OverflowError) as exc:
        raise InvalidCursor("Malformed cursor.") from exc
    if parsed is None:
        raise InvalidCursor("Malformed cursor.")
    return parsed


def _field_value(obj: Model, field: str) -> Any:
    value = getattr(obj, field)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _seek(qs: QuerySet, fields: tuple[str, ...], values: list | None, descending: bool):
    qs = qs.order_by(*[f"-{f}" if descending else f for f in fields])
    if not values:
        return qs
    op = "lt" if descending else "gt"
    condition = Q()
    for i, field in enumerate(fields):
        equal = {fields[j]: values[j] for j in range(i)}
        condition |= Q(**equal, **{f"{field}__{op}": values[i]})
    # The bound on the first key makes it an index condition (see the module docstring).
    return qs.filter(condition, **{f"{fields[0]}__{op}e": values[0]})


def keyset_page(
    qs: QuerySet,
    *,
    fields: tuple[str, ...],
    cursor: str | None,
    size: int,
    descending: bool = True,
    nulls_last: bool = False,
) -> Page:
    """One page of ``qs`` ordered by ``fields`` (descending unless told otherwise; the
    last field must be unique and non-null, e.g. ``id``), after ``cursor``.

    ``nulls_last``: the first field may be NULL (a contact nobody has heard from has no
    last interaction); those rows come after the others, paged by the remaining fields.
    Raises ``InvalidCursor`` for a cursor that does not fit ``fields``.
    """
    if qs.query.is_empty():
        return Page(items=[], next_cursor=None)
    values = None
    if cursor:
        raw = decode_cursor(cursor, len(fields))
        if raw[-1] is None or (raw[0] is None and not nulls_last):
            raise InvalidCursor("Malformed cursor.")
        values = [
            None if v is None else parse_cursor_value(qs, f, v)
            for f, v in zip(fields, raw, strict=True)
        ]
    if not nulls_last:
        rows = list(_seek(qs, fields, values, descending)[: size + 1])
    else:
        rows = _nulls_last_rows(qs, fields, values, descending, size)
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor([_field_value(rows[-1], f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor)


def _nulls_last_rows(qs, fields, values, descending: bool, size: int) -> list:
    lead = fields[0]
    in_tail = values is not None and values[0] is None
    tail = _seek(
        qs.filter(**{f"{lead}__isnull": True}),
        fields[1:],
        values[1:] if in_tail else None,
        descending,
    )
    if in_tail:
        return list(tail[: size + 1])
    head = _seek(qs.filter(**{f"{lead}__isnull": False}), fields, values, descending)[: size + 1]
    if connections[qs.db].features.supports_slicing_ordering_in_compound:
        # One round trip: both halves are index scans capped at a page, and the outer
        # sort puts the dated ones first.
        order = [getattr(F(f), "desc" if descending else "asc")(nulls_last=True) for f in fields]
        return list(head.union(tail[: size + 1], all=True).order_by(*order)[: size + 1])
    rows = list(head)
    if len(rows) <= size:
        rows += list(tail[: size + 1 - len(rows)])
    return rows


def keyset_page_or_404(qs: QuerySet, **kwargs: Any) -> Page:
    """``keyset_page`` for an HTML view: a malformed cursor is a 404, not a 500."""
    try:
        return keyset_page(qs, **kwargs)
    except InvalidCursor:
        raise Http404 from None


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
            if (asked := ascii_int(raw)) is None:
                raise ValidationError({self.page_size_query_param: ["Must be an integer."]})
            size = max(1, min(asked, self.max_page_size))
        try:
            page = keyset_page(
                queryset,
                fields=fields,
                cursor=request.query_params.get(self.cursor_query_param),
                size=size,
            )
        except InvalidCursor:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None
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
