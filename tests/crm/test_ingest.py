"""The ingest path: bulk, idempotent, hostile-text-proof, failures kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, SocialIdentity, StageChange, TimelineEntry
from contacts.services import FOLLOW_RULE
from crm.ingest import clean_text, ingest_interactions
from crm.models import SocialAccount, SyncFailure
from crm.networks.base import Author, FailedItem, Interaction
from tests.factories import SocialAccountFactory, UserFactory

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def item(n: int, *, kind="mention", author: Author | None = None, text=None, **kw) -> Interaction:
    author = author or Author(external_id=f"did:plc:a{n}", handle=f"a{n}.test")
    return Interaction(
        network="bluesky",
        external_id=f"at://did:plc:a{n}/app.bsky.feed.post/{n}",
        kind=kind,
        author=author,
        occurred_at=T0 + timedelta(minutes=n),
        text=f"hello {n}" if text is None else text,
        **kw,
    )


@pytest.fixture(params=["postgresql", "portable"])
def vendor(request, monkeypatch):
    """Run each test through the PostgreSQL COPY path and the portable ORM path (the
    one SQLite uses for `make run`)."""
    if request.param == "portable":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return request.param


@pytest.fixture
def account(db):
    return SocialAccountFactory(network="bluesky")


def test_page_lands_once_on_new_stage0_contacts(account, vendor):
    items = [item(n) for n in range(5)]
    stats = ingest_interactions(account=account, items=items)
    assert (stats.created, stats.new_contacts, stats.updated) == (5, 5, 0)
    entries = TimelineEntry.objects.filter(network="bluesky").order_by("occurred_at")
    assert [e.external_id for e in entries] == [i.external_id for i in items]
    assert all(e.account_id == account.pk and e.direction == "in" for e in entries)
    assert all(e.contact.stage == 0 for e in entries)
    assert entries[0].identity.handle == "a0.test"
    assert entries[4].contact.last_interaction_at == T0 + timedelta(minutes=4)

    again = ingest_interactions(account=account, items=items)
    assert (again.created, again.new_contacts) == (0, 0)
    assert TimelineEntry.objects.count() == 5
    assert Contact.objects.count() == 5
    account.refresh_from_db()
    assert account.items_synced == 5


def test_same_author_one_contact_profile_updates_and_counts_refresh(account, vendor):
    ana = Author(external_id="did:plc:ana", handle="ana.test", display_name="Ana")
    ingest_interactions(account=account, items=[item(1, author=ana), item(2, author=ana)])
    assert Contact.objects.count() == 1
    renamed = Author(
        external_id="did:plc:ana",
        handle="ana-new.test",
        display_name="Ana B.",
        follower_count=1234,
        profile_url="https://bsky.app/profile/ana-new.test",
    )
    stats = ingest_interactions(
        account=account, items=[item(1, author=renamed, like_count=7, repost_count=2)]
    )
    assert (stats.created, stats.updated) == (0, 1)
    identity = SocialIdentity.objects.get()
    assert (identity.handle, identity.display_name, identity.follower_count) == (
        "ana-new.test",
        "Ana B.",
        1234,
    )
    assert identity.profile_url == "https://bsky.app/profile/ana-new.test"
    entry = TimelineEntry.objects.get(external_id=item(1).external_id)
    assert (entry.like_count, entry.repost_count) == (7, 2)


def test_hostile_text_is_stored_intact_and_never_breaks_a_page(account, vendor):
    hostile = {
        "script": '<script>alert("x")</script><img src=x onerror=alert(1)>',
        "rtl": "\u202eevil\u202c \u200fשלום مرحبا",
        "emoji": "👩🏽‍💻🚀 café ñandú 🇪🇸",
        "long": "ñ" * 5000,
        "nul": "a\x00b",
    }
    items = [item(n, text=text) for n, text in enumerate(hostile.values())]
    items.append(item(90, text="lone \ud800 surrogate", raw={"text": "bad \udfff too"}))
    stats = ingest_interactions(account=account, items=items)
    assert stats.created == len(items)
    stored = {e.external_id: e for e in TimelineEntry.objects.all()}
    for n, text in enumerate(hostile.values()):
        assert stored[item(n).external_id].text == text.replace("\x00", "\ufffd")
    surrogate = stored[item(90).external_id]
    assert surrogate.text == "lone \ufffd surrogate"
    assert surrogate.raw == {"text": "bad \ufffd too"}
    assert len(stored[item(3).external_id].text) == 5000


def test_malformed_items_become_failures_and_the_page_still_lands(account, vendor):
    good = [item(1), item(2)]
    bad_kind = item(3, kind="poke")
    failed = [FailedItem("at://broken/1", "Malformed notification: no author", {"x": 1})]
    stats = ingest_interactions(account=account, items=[*good, bad_kind], failed=failed)
    assert stats.created == 2
    assert stats.failed == 2
    reasons = dict(SyncFailure.objects.values_list("external_id", "reason"))
    assert reasons["at://broken/1"].startswith("Malformed")
    assert "unknown kind" in reasons[bad_kind.external_id]
    # Seen again: still one row per item, counted once.
    ingest_interactions(account=account, items=[], failed=failed)
    assert SyncFailure.objects.count() == 2
    account.refresh_from_db()
    assert (account.items_synced, account.items_failed) == (2, 2)


def test_classifies_inbound_text(account, vendor):
    items = [
        item(1, text="My order never arrived and nobody answers!!"),
        item(2, text="Hola, ¿cuándo llega mi pedido?"),
        item(3, kind="like", text=""),
    ]
    ingest_interactions(account=account, items=items)
    complaint, question, like = (
        TimelineEntry.objects.get(external_id=i.external_id) for i in items
    )
    assert (complaint.language, complaint.intent, complaint.sentiment) == (
        "en",
        "complaint",
        "negative",
    )
    assert complaint.sentiment_score < 0
    assert (question.language, question.intent) == ("es", "question")
    assert (like.language, like.intent, like.sentiment_score) == ("", "", None)
    # The classifier's confidence is stored too (an unsure label is marked in the inbox).
    assert 0.0 < question.label_confidence <= 1.0
    assert complaint.label_confidence >= 0.8 and not complaint.label_uncertain
    assert like.label_confidence is None


def test_follow_moves_stage0_contact_to_lead_via_personal_account(db, vendor):
    staff = UserFactory(username="rosa")
    personal = SocialAccountFactory(network="bluesky", kind="personal", user=staff)
    follower = Author(external_id="did:plc:fan", handle="fan.test")
    stats = ingest_interactions(account=personal, items=[item(1, kind="follow", author=follower)])
    assert stats.stage_changes == 1
    contact = SocialIdentity.objects.get(external_id="did:plc:fan").contact
    assert contact.stage == 1
    change = StageChange.objects.get(contact=contact)
    assert (change.from_stage, change.to_stage, change.rule) == (0, 1, FOLLOW_RULE)
    entry = contact.timeline.get(kind="follow")
    assert entry.account == personal and personal.kind == SocialAccount.Kind.PERSONAL
    # Following again is not a new stage change.
    ingest_interactions(account=personal, items=[item(1, kind="follow", author=follower)])
    assert StageChange.objects.filter(contact=contact).count() == 1


def test_query_count_does_not_grow_with_the_page(account, django_assert_max_num_queries):
    ingest_interactions(account=account, items=[item(0)])  # warm the temp table
    # The page itself costs at most 12 queries; the stage rules and the support app's
    # ticket rules (through core.signals.entries_ingested) a constant number more.
    with django_assert_max_num_queries(32) as small:
        ingest_interactions(account=account, items=[item(n) for n in range(1, 11)])
    with django_assert_max_num_queries(32) as big:
        ingest_interactions(account=account, items=[item(n) for n in range(11, 311)])
    assert len(small.captured_queries) == len(big.captured_queries)
    assert TimelineEntry.objects.count() == 311


def test_clean_text_keeps_valid_pairs():
    assert clean_text("\ud83d\ude00") == "😀"
    assert clean_text("ok") == "ok"


def test_sync_opens_tickets_through_the_support_rules(account):
    """Ingest announces stored pages (core.signals.entries_ingested); the support app's
    receiver opens a ticket for an inbound DM, and a later message joins it."""
    from support.models import Ticket

    author = Author(external_id="did:plc:dmer", handle="dmer.test")
    ingest_interactions(
        account=account, items=[item(1, kind="dm", author=author, text="Hola, mi router no va")]
    )
    ticket = Ticket.objects.get()
    assert ticket.contact.identities.get().external_id == "did:plc:dmer"
    # Every stored entry reaches the stage rules, not only follows: a DM makes a lead.
    assert ticket.contact.stage == 1
    assert ticket.contact.stage_changes.get().rule
    ingest_interactions(
        account=account, items=[item(2, kind="dm", author=author, text="¿Alguien?")]
    )
    assert Ticket.objects.count() == 1
    assert ticket.links.count() == 2
    # The same page again changes nothing.
    ingest_interactions(
        account=account, items=[item(2, kind="dm", author=author, text="¿Alguien?")]
    )
    assert ticket.links.count() == 2


def test_a_pages_statements_do_not_grow_with_the_page(vendor, account, settings):
    """Storing 5 new items or 60 (new authors, identities, entries, and their follow-up)
    takes the same statements on both paths; the portable one also with the folded
    search copies written, as off PostgreSQL (the copies stay NULL on PostgreSQL)."""

    def page_queries(first: int, size: int) -> int:
        items = [item(n) for n in range(first, first + size)]
        with CaptureQueriesContext(connection) as ctx:
            ingest_interactions(account=account, items=items)
        return len(ctx.captured_queries)

    assert page_queries(0, 5) == page_queries(100, 60)
    assert TimelineEntry.objects.get(text="hello 159").text_folded is None
    if vendor == "portable":
        settings.IS_POSTGRES = False  # the copies are written, as on SQLite
        assert page_queries(200, 5) == page_queries(300, 60)
        assert TimelineEntry.objects.get(text="hello 359").text_folded == "hello 359"
