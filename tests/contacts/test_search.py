"""Full-text search on PostgreSQL (and the icontains fallback used on SQLite)."""

import pytest
from django.test import override_settings

from contacts.models import Contact
from contacts.search import contact_search, tsquery_text
from tests.factories import ContactFactory, SocialIdentityFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    lucia = ContactFactory(
        display_name="Lucía Pérez", company="Panadería La Espiga", email="lucia@shop.example"
    )
    SocialIdentityFactory(contact=lucia, network="bluesky", handle="lucia.bsky.social")
    SocialIdentityFactory(contact=lucia, network="x", handle="lucia_fan")
    TimelineEntryFactory(contact=lucia, text="Estoy comprando routers nuevos para la oficina")
    bob = ContactFactory(display_name="Bob Stone", email="bob@example.com")
    SocialIdentityFactory(contact=bob, network="mastodon", handle="bob@mastodon.social")
    TimelineEntryFactory(contact=bob, text="The fibre keeps dropping, terrible connection")
    ContactFactory(display_name="Nobody Special")
    return lucia, bob


def ids(text):
    return set(contact_search(Contact.objects.all(), text).values_list("pk", flat=True))


def test_names_handles_emails_and_prefixes(people):
    lucia, bob = people
    assert ids("lucia") == {lucia.pk}  # without the accent
    assert ids("Lucía Pérez") == {lucia.pk}
    assert ids("luc") == {lucia.pk}  # typed so far
    assert ids("@lucia.bsky") == {lucia.pk}
    assert ids("lucia_fan") == {lucia.pk}
    assert ids("shop.example") == {lucia.pk}
    assert ids("lucia@shop.example") == {lucia.pk}
    assert ids("bob@mastodon.social") == {bob.pk}
    assert ids("mastodon") == {bob.pk}
    assert ids("panaderia espiga") == {lucia.pk}
    assert ids("stone lucia") == set()  # every word must match


def test_words_they_wrote_with_spanish_and_english_stemming(people):
    lucia, bob = people
    assert ids("comprar") == {lucia.pk}  # Spanish stem of "comprando"
    assert ids("router") == {lucia.pk}  # English stem of "routers"
    assert ids("oficina") == {lucia.pk}
    assert ids("dropped") == {bob.pk}
    assert ids("connections") == {bob.pk}


def test_document_follows_changes_to_contacts_and_identities(people):
    lucia, _ = people
    identity = lucia.identities.get(network="bluesky")
    identity.handle = "carmen.example.com"
    identity.save()
    assert ids("carmen") == {lucia.pk}
    assert ids("lucia.bsky") == set()
    Contact.objects.filter(pk=lucia.pk).update(display_name="Lucy Smith")
    assert ids("smith") == {lucia.pk}
    identity.delete()
    assert ids("carmen") == set()


def test_hostile_input_is_not_a_tsquery_error(people):
    for text in ["'", "&|!():*", "a & b | !c", "x'); DROP TABLE contacts_contact; --", "   ", "-"]:
        ids(text)  # no error
    assert tsquery_text("it's a <b>test</b>") == "'it':* & 's':* & 'a':* & 'b':* & 'test':* & 'b':*"
    assert tsquery_text("&|!") == ""


def test_icontains_fallback_when_not_postgresql(people):
    lucia, bob = people
    with override_settings(IS_POSTGRES=False):
        assert ids("Pérez") == {lucia.pk}
        assert ids("@lucia.bsky") == {lucia.pk}
        assert ids("comprando") == {lucia.pk}
        assert ids("shop.example") == {lucia.pk}
        assert ids("STONE") == {bob.pk}


def test_search_uses_the_gin_indexes(people):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = contact_search(Contact.objects.all(), "router").explain()
        cursor.execute("SET enable_seqscan = on")
    assert "contact_search" in plan
    assert "timeline_text_search" in plan
