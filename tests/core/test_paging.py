"""core.paging: the one cursor format, the page function and the DRF paginator."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from contacts.models import TimelineEntry
from core.paging import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    keyset_page,
    keyset_page_or_404,
)
from tests.conftest import api_as
from tests.factories import ContactFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db


def test_cursor_round_trip_and_malformed_cursors():
    cursor = encode_cursor(["2024-05-01T10:00:00+00:00", 42])
    assert "=" not in cursor
    assert decode_cursor(cursor, 2) == ["2024-05-01T10:00:00+00:00", 42]
    for bad in ["", "%%%", encode_cursor([1]), encode_cursor({"a": 1}), "bm90IGpzb24"]:
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, 2)


def _timeline(n: int):
    contact = ContactFactory()
    now = timezone.now()
    # Pairs share a timestamp so the id breaks ties.
    for i in range(n):
        TimelineEntryFactory(contact=contact, occurred_at=now - timedelta(minutes=i // 2))
    return contact


def test_pages_walk_every_row_once_newest_first():
    contact = _timeline(11)
    qs = TimelineEntry.objects.filter(contact=contact)
    seen, cursor = [], None
    while True:
        page = keyset_page(qs, fields=("occurred_at", "id"), cursor=cursor, size=3)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.pk for e in seen] == list(
        qs.order_by("-occurred_at", "-id").values_list("pk", flat=True)
    )


def test_ascending_order():
    contact = _timeline(5)
    qs = TimelineEntry.objects.filter(contact=contact)
    first = keyset_page(qs, fields=("id",), cursor=None, size=2, descending=False)
    second = keyset_page(qs, fields=("id",), cursor=first.next_cursor, size=2, descending=False)
    ids = sorted(qs.values_list("pk", flat=True))
    assert [e.pk for e in first.items + second.items] == ids[:4]


def test_cursor_of_the_wrong_type_is_invalid_and_a_404_for_pages():
    qs = TimelineEntry.objects.all()
    wrong = encode_cursor([5, 5])  # a number where a date belongs
    with pytest.raises(InvalidCursor):
        keyset_page(qs, fields=("occurred_at", "id"), cursor=wrong, size=3)
    with pytest.raises(Http404):
        keyset_page_or_404(qs, fields=("occurred_at", "id"), cursor=wrong, size=3)
    with pytest.raises(Http404):
        keyset_page_or_404(qs, fields=("occurred_at", "id"), cursor="garbage!", size=3)


def test_api_pagination_answers_400_with_a_field_message(manager):
    contact = _timeline(3)
    client = api_as(manager)
    url = f"/api/v1/contacts/{contact.pk}/timeline/"
    assert client.get(url, {"page_size": 2}).json()["next"]
    bad = client.get(url, {"cursor": "garbage!"})
    assert bad.status_code == 400 and "cursor" in bad.json()
    assert client.get(url, {"page_size": "two"}).status_code == 400
