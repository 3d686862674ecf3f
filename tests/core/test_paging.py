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


# -- hostile cursors on every keyset endpoint ---------------------------------------------

#: Well-formed cursors (valid base64 of a JSON list of the right length) whose values
#: no row can have: each once raised past ``InvalidCursor`` into a 500.
DATED_CURSORS = {
    "impossible date": ["2024-02-30T00:00:00+00:00", 1],
    "hour 25": ["2024-05-01T25:00:00+00:00", 1],
    "leaves the calendar in UTC": ["0001-01-01T00:00:00+05:00", 1],
    "year 9999 east of UTC": ["9999-12-31T23:59:59-23:59", 1],
    "naive": ["2024-05-01T10:00:00", 1],
    "id past bigint": ["2024-05-01T10:00:00+00:00", 2**80],
    "id a boolean": ["2024-05-01T10:00:00+00:00", True],
}
ID_CURSORS = {
    "id past bigint": [2**80],
    "id below bigint": [-(2**70)],
    "id a float": [1e308],
}

#: (path, the cursor's sort key has a date) for every keyset endpoint; {c} is a contact,
#: {k} a campaign.
UI_PAGES = [
    ("/inbox/", True),
    ("/contacts/", False),
    ("/contacts/?sort=recent", True),
    ("/contacts/pipeline/?column=1", True),
    ("/contacts/{c}/", True),
    ("/support/", False),
    ("/support/testimonials/", True),
    ("/campaigns/", False),
    ("/campaigns/{k}/", True),
    ("/campaigns/{k}/posts/", True),
]
API_ENDPOINTS = [
    ("/api/v1/interactions/", True),
    ("/api/v1/testimonials/", True),
    ("/api/v1/contacts/{c}/timeline/", True),
    ("/api/v1/contacts/{c}/history/", True),
    ("/api/v1/campaigns/{k}/feed/", True),
    ("/api/v1/contacts/", False),
    ("/api/v1/tickets/", False),
    ("/api/v1/tasks/", False),
]


def _cases(endpoints):
    return [
        pytest.param(path, name, value, id=f"{path} {name}")
        for path, dated in endpoints
        for name, value in (DATED_CURSORS if dated else ID_CURSORS).items()
    ]


@pytest.fixture
def keyset_objects():
    from tests.factories import CampaignFactory

    contact = _timeline(3)
    return {"c": contact.pk, "k": CampaignFactory().pk}


def _raw_cursor(values) -> str:
    # encode_cursor would serialise the same way; spelled out so the test does not trust it.
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(("path", "name", "values"), _cases(UI_PAGES))
def test_a_hostile_cursor_on_a_page_is_a_404(client, manager, keyset_objects, path, name, values):
    client.force_login(manager)
    url = path.format(**keyset_objects)
    assert client.get(url).status_code == 200
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}cursor={_raw_cursor(values)}")
    assert response.status_code == 404, name
    htmx = client.get(f"{url}{joiner}cursor={_raw_cursor(values)}", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 404, name


@pytest.mark.parametrize(("path", "name", "values"), _cases(API_ENDPOINTS))
def test_a_hostile_cursor_in_the_api_is_a_400_on_the_cursor(
    manager, keyset_objects, path, name, values
):
    client = api_as(manager)
    url = path.format(**keyset_objects)
    assert client.get(url).status_code == 200
    response = client.get(url, {"cursor": _raw_cursor(values)})
    assert response.status_code == 400, name
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_cursor_values_are_checked_before_any_query(django_assert_num_queries):
    qs = TimelineEntry.objects.all()
    for values in DATED_CURSORS.values():
        with django_assert_num_queries(0), pytest.raises(InvalidCursor):
            keyset_page(qs, fields=("occurred_at", "id"), cursor=_raw_cursor(values), size=3)
    contacts = ContactFactory._meta.model.objects.all()
    for values in (["\x00", 1], ["Ana", 2**63]):
        with django_assert_num_queries(0), pytest.raises(InvalidCursor):
            keyset_page(contacts, fields=("display_name", "id"), cursor=_raw_cursor(values), size=3)
    with pytest.raises(InvalidCursor):
        decode_cursor("A" * 2000, 1)


def test_a_cursor_with_another_offset_names_the_same_instant():
    contact = _timeline(4)
    qs = TimelineEntry.objects.filter(contact=contact)
    rows = list(qs.order_by("-occurred_at", "-id"))
    pivot = rows[1]
    madrid = pivot.occurred_at.astimezone(timezone.get_fixed_timezone(120)).isoformat()
    page = keyset_page(
        qs, fields=("occurred_at", "id"), cursor=_raw_cursor([madrid, pivot.pk]), size=10
    )
    assert [e.pk for e in page.items] == [e.pk for e in rows[2:]]
