"""CSV exports of contacts, written by ``core.csv`` (formula cells neutralised)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.csv import csv_streaming_response

from .models import Contact

CONTACT_COLUMNS = [
    "id",
    "display_name",
    "stage",
    "email",
    "phone",
    "company",
    "language",
    "owner",
    "tags",
    "handles",
    "score",
    "last_interaction_at",
    "created_at",
]


def contact_rows(queryset: QuerySet[Contact]) -> Iterator[list[Any]]:
    """The header, then one row per contact in id order, read a few thousand at a time
    (``queryset`` should prefetch owners, tags and identities, as
    ``selectors.contact_list_queryset`` does)."""
    yield CONTACT_COLUMNS
    for c in queryset.order_by("pk").iterator(chunk_size=2000):
        yield [
            c.pk,
            c.display_name,
            c.stage,
            c.email,
            c.phone,
            c.company,
            c.language,
            c.owner.get_username() if c.owner else "",
            ";".join(t.name for t in c.tags.all()),
            ";".join(f"{i.network}:{i.handle}" for i in c.identities.all()),
            c.score,
            c.last_interaction_at.isoformat() if c.last_interaction_at else "",
            c.created_at.isoformat(),
        ]


def contacts_csv_response(queryset: QuerySet[Contact]) -> StreamingHttpResponse:
    """``queryset`` as a streamed CSV download named after the time of export."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csv_streaming_response(contact_rows(queryset), filename=f"contacts-{stamp}.csv")
