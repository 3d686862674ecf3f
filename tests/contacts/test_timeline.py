"""``timeline_event_record``: the one writer of an event Momento records itself on a
contact's timeline (a note, a stage change, a purchase, a to-do, a ticket event)."""

import pytest
from django.contrib.contenttypes.models import ContentType

from contacts.models import Purchase, TimelineEntry, Todo, timeline_event_record
from core.choices import Direction, EntryKind
from tests.factories import ContactFactory, PurchaseFactory, TodoFactory

pytestmark = pytest.mark.django_db


def test_an_event_points_at_its_subject(sales):
    contact = ContactFactory()
    purchase = PurchaseFactory(contact=contact)

    entry = timeline_event_record(
        contact_id=contact.pk,
        kind=EntryKind.PURCHASE,
        subject=purchase,
        text="Fibra 600Mb",
        actor=sales,
        raw={"amount": "39.90"},
    )

    stored = TimelineEntry.objects.get(pk=entry.pk)
    assert stored.subject == purchase
    assert stored.content_type == ContentType.objects.get_for_model(Purchase)
    assert stored.object_id == purchase.pk
    assert (stored.contact, stored.kind, stored.direction) == (
        contact,
        EntryKind.PURCHASE,
        Direction.INTERNAL,
    )
    assert (stored.text, stored.created_by, stored.raw) == (
        "Fibra 600Mb",
        sales,
        {"amount": "39.90"},
    )
    # Not a social item: no network, no network id, so it never collides with one.
    assert (stored.network, stored.external_id) == ("", "")
    assert stored.occurred_at is not None

    note = timeline_event_record(contact_id=contact.pk, kind=EntryKind.NOTE, text="Called")
    assert note.pk and note.subject is None and note.content_type_id is None
    assert list(contact.timeline.values_list("kind", flat=True).order_by("id")) == [
        "purchase",
        "note",
    ]


def test_bulk_build_saves_nothing_until_one_bulk_create(django_assert_num_queries):
    todos = [TodoFactory() for _ in range(3)]
    ContentType.objects.get_for_model(Todo)  # the content type cache, as in a running app

    with django_assert_num_queries(0):
        built = [
            timeline_event_record(
                contact_id=todo.contact_id,
                kind=EntryKind.TODO,
                subject=todo,
                text=todo.title,
                build_only=True,
            )
            for todo in todos
        ]
    assert all(entry.pk is None for entry in built)
    assert not TimelineEntry.objects.exists()

    with django_assert_num_queries(1):
        TimelineEntry.objects.bulk_create(built)
    for todo in todos:
        entry = TimelineEntry.objects.get(contact_id=todo.contact_id)
        assert entry.subject == todo and entry.text == todo.title
        assert (entry.kind, entry.direction) == ("task", Direction.INTERNAL)
