"""Full-text search on PostgreSQL (and the folded copies' search used off it)."""

import pytest
from django.test import override_settings

from contacts.models import Contact, SocialIdentity, TimelineEntry
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


def test_folded_copies_are_left_empty_on_postgresql(people):
    """PostgreSQL searches its own documents: the folded copies (for search elsewhere)
    would only double every post there, so they stay NULL."""
    lucia, _ = people
    assert Contact.objects.filter(pk=lucia.pk, search_folded=None).exists()
    assert not SocialIdentity.objects.exclude(search_folded=None).exists()
    assert not TimelineEntry.objects.exclude(text_folded=None).exists()


def test_folded_copies_when_not_postgresql():
    """The search used off PostgreSQL, run here with the copies written as they are
    there: accents and case ignored, substrings, never a stem."""
    with override_settings(IS_POSTGRES=False):
        lucia = ContactFactory(
            display_name="Lucía Pérez", company="Panadería La Espiga", email="lucia@shop.example"
        )
        SocialIdentityFactory(contact=lucia, network="bluesky", handle="lucía.bsky.social")
        TimelineEntryFactory(contact=lucia, text="¿Cuál es la CONTRASEÑA? Compré routers")
        bob = ContactFactory(display_name="Bob Stone", email="bob@example.com")
        assert Contact.objects.get(pk=lucia.pk).search_folded == (
            "lucia perez\nlucia@shop.example\npanaderia la espiga"
        )
        assert ids("Pérez") == ids("perez") == ids("PEREZ") == {lucia.pk}
        assert ids("@lucia.bsky") == {lucia.pk}
        assert ids("contrasena") == ids("Contraseña") == {lucia.pk}
        assert ids("router") == {lucia.pk}  # a substring of "routers"
        assert ids("shop.example") == {lucia.pk}
        assert ids("STONE") == {bob.pk}
        assert ids("perez panaderia") == set()  # a match never spans two fields
        assert ids("100%") == ids("a_b") == set()  # LIKE's wildcards are plain text


def test_search_probes_the_gin_indexes_then_picks_a_plan(people, monkeypatch):
    from django.db import connection
    from django.db.models import Q

    from contacts import search

    match = Q(search.TextMatch("search_document", "'router':*")) | Q(
        search.TextMatch("timeline_document", "'router':*")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        plan = Contact.objects.filter(match).explain()
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
    assert "contact_search" in plan and "contact_timeline_search" in plan
    lucia, _ = people
    rare = str(contact_search(Contact.objects.all(), "router").query)
    assert "@@" not in rare and "unnest(" in rare  # a short list of ids
    monkeypatch.setattr(search, "PROBE", 0)
    common = contact_search(Contact.objects.all(), "router")
    assert "@@" in str(common.query) and list(common) == [lucia]


def test_timeline_document_follows_inserts_and_erasure(people, sales):
    from contacts.services import contact_erase

    lucia, bob = people
    TimelineEntryFactory.create_batch(3, contact=bob, text="Necesito ayuda con la factura")
    assert ids("factura") == {bob.pk}
    TimelineEntryFactory(contact=lucia, text="Yo también pregunto por la factura")
    assert ids("factura") == {lucia.pk, bob.pk}
    contact_erase(contact=bob, actor=sales)
    assert ids("factura") == {lucia.pk}
    assert ids("dropping") == set()


def test_merge_keeps_the_other_contacts_words_searchable(people, sales):
    from contacts.services import contact_merge

    lucia, bob = people
    contact_merge(survivor=lucia, other=bob, actor=sales)
    assert ids("dropping") == {lucia.pk}
    assert ids("bob@mastodon.social") == {lucia.pk}
