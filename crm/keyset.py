"""Keyset pagination over descending sort keys, shared by pages and the API.

Django's usual ``Q(a__lt=x) | Q(a=x, id__lt=y)`` is only applied as a filter by
PostgreSQL, so it slows with depth; adding ``a__lte=x`` makes it an index condition and
the 1,000th page costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

from lib.keyset import InvalidCursor, decode_cursor, encode_cursor

__all__ = ["InvalidCursor", "Page", "keyset_page", "parse_cursor_value"]


@dataclass
class Page:
    items: list[Model]
    next_cursor: str | None


def _field_value(obj: Model, field: str) -> Any:
    value = getattr(obj, field)
    return value.isoformat() if hasattr(value, "isoformat") else value


def parse_cursor_value(qs: QuerySet, field: str, value: Any) -> Any:
    """A cursor value for ``field`` of ``qs``'s model, checked against the field's type
    (a cursor comes from the client: anything else is ``InvalidCursor``)."""
    internal = qs.model._meta.get_field(field).get_internal_type()
    if internal == "DateTimeField":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise InvalidCursor("Malformed cursor.")
        return parsed
    if internal.endswith("IntegerField") or internal.endswith("AutoField"):
        if not isinstance(value, int):
            raise InvalidCursor("Malformed cursor.")
    elif not isinstance(value, str):
        raise InvalidCursor("Malformed cursor.")
    return value


def keyset_page(qs: QuerySet, *, fields: tuple[str, ...], cursor: str | None, size: int) -> Page:
    """One page of ``qs`` ordered by ``fields`` descending (the last must be unique,
    e.g. ``id``), after ``cursor``. Fields must be non-null."""
    qs = qs.order_by(*[f"-{f}" for f in fields])
    if cursor:
        values = [
            parse_cursor_value(qs, f, v)
            for f, v in zip(fields, decode_cursor(cursor, len(fields)), strict=True)
        ]
        condition = Q()
        for i, field in enumerate(fields):
            equal = {fields[j]: values[j] for j in range(i)}
            condition |= Q(**equal, **{f"{field}__lt": values[i]})
        qs = qs.filter(condition, **{f"{fields[0]}__lte": values[0]})
    items = list(qs[: size + 1])
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        next_cursor = encode_cursor([_field_value(items[-1], f) for f in fields])
    return Page(items=items, next_cursor=next_cursor)
