"""Keyset pages of contacts in any of the list's sort orders.

``crm.keyset.keyset_page`` covers descending, non-null keys; the contact list also sorts
by name (ascending) and by last interaction, which is NULL for contacts nobody has
heard from: those come last, paged by id after the dated ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.keyset import InvalidCursor, Page, parse_cursor_value
from lib.keyset import decode_cursor, encode_cursor


@dataclass(frozen=True)
class Sort:
    label: Any
    fields: tuple[str, ...]
    descending: bool = True
    #: The first field may be NULL; NULLs sort last.
    nulls_last: bool = False


SORTS = {
    "recent": Sort(_("Last interaction"), ("last_interaction_at", "id"), nulls_last=True),
    "newest": Sort(_("Newest"), ("id",)),
    "score": Sort(_("Score"), ("score", "id")),
    "name": Sort(_("Name"), ("display_name", "id"), descending=False),
}
DEFAULT_SORT = "recent"


def _parse(qs: QuerySet, field: str, value: Any) -> Any:
    # NULL last-interaction dates are part of this ordering; the rest is crm's check.
    return None if value is None else parse_cursor_value(qs, field, value)


def _seek(qs: QuerySet, fields: tuple[str, ...], values: list | None, descending: bool):
    qs = qs.order_by(*[f"-{f}" if descending else f for f in fields])
    if not values:
        return qs
    op = "lt" if descending else "gt"
    condition = Q()
    for i, field in enumerate(fields):
        equal = {fields[j]: values[j] for j in range(i)}
        condition |= Q(**equal, **{f"{field}__{op}": values[i]})
    # The bound on the first key makes it an index condition (see crm.keyset).
    return qs.filter(condition, **{f"{fields[0]}__{op}e": values[0]})


def _value(obj, field: str) -> Any:
    value = getattr(obj, field)
    return value.isoformat() if hasattr(value, "isoformat") else value


def sorted_page(qs: QuerySet, *, sort: Sort, cursor: str | None, size: int) -> Page:
    """One page of ``qs`` in ``sort`` order after ``cursor``."""
    if qs.query.is_empty():
        return Page(items=[], next_cursor=None)
    fields = sort.fields
    values = None
    if cursor:
        raw = decode_cursor(cursor, len(fields))
        if raw[-1] is None or (raw[0] is None and not sort.nulls_last):
            raise InvalidCursor("Malformed cursor.")
        values = [_parse(qs, f, v) for f, v in zip(fields, raw, strict=True)]
    if not sort.nulls_last:
        rows = list(_seek(qs, fields, values, sort.descending)[: size + 1])
    else:
        lead = fields[0]
        in_tail = values is not None and values[0] is None
        tail = _seek(
            qs.filter(**{f"{lead}__isnull": True}),
            fields[1:],
            values[1:] if in_tail else None,
            sort.descending,
        )
        if in_tail:
            rows = list(tail[: size + 1])
        else:
            head = _seek(qs.filter(**{f"{lead}__isnull": False}), fields, values, sort.descending)[
                : size + 1
            ]
            if connections[qs.db].features.supports_slicing_ordering_in_compound:
                # One round trip: both halves are index scans capped at a page, and the
                # outer sort puts the dated ones first.
                order = [
                    getattr(F(f), "desc" if sort.descending else "asc")(nulls_last=True)
                    for f in fields
                ]
                rows = list(head.union(tail[: size + 1], all=True).order_by(*order)[: size + 1])
            else:
                rows = list(head)
                if len(rows) <= size:
                    rows += list(tail[: size + 1 - len(rows)])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor([_value(rows[-1], f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor)
