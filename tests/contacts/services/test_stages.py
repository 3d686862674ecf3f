"""Stage changes and the stage rules (``contacts.services.stages``).

A person moves a contact to any other stage; rules are configured in the admin, applied
by sync and by events, forward only, once per contact, each application a StageChange
naming the rule."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Stage, StageChange, StageRule, TimelineEntry
from contacts.services import FOLLOW_RULE, contact_change_stage, stage_rules_apply
from tests.factories import ContactFactory, TimelineEntryFactory

pytestmark = pytest.mark.django_db


def test_person_moves_contact_and_history_is_written(sales):
    contact = ContactFactory()
    change = contact_change_stage(
        contact=contact, stage=Stage.LEAD, actor=sales, reason="Met at the fair"
    )

    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD
    assert (change.from_stage, change.to_stage, change.actor, change.rule) == (0, 1, sales, "")
    assert change.reason == "Met at the fair"
    entry = TimelineEntry.objects.get(contact=contact, kind="stage_change")
    assert entry.subject == change
    assert entry.raw == {"from": 0, "to": 1, "rule": ""}
    assert entry.created_by == sales


def test_person_may_move_backwards(sales):
    contact = ContactFactory(stage=Stage.CUSTOMER)
    contact_change_stage(contact=contact, stage=Stage.LEAD, actor=sales, reason="Refunded")
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD


def test_rule_never_moves_backwards_and_records_nothing():
    contact = ContactFactory(stage=Stage.CUSTOMER)
    assert (
        contact_change_stage(contact=contact, stage=Stage.LEAD, rule="Follow of our account")
        is None
    )
    contact.refresh_from_db()
    assert contact.stage == Stage.CUSTOMER
    assert not StageChange.objects.exists()


def test_rule_records_its_name():
    contact = ContactFactory()
    change = contact_change_stage(
        contact=contact, stage=1, rule="Follow of our account", reason="Followed @brand"
    )
    assert change.rule == "Follow of our account"
    assert change.actor is None
    assert change.actor_label == "Follow of our account"


@pytest.mark.parametrize("bad", [3, -1, "two", None])
def test_invalid_stage_is_rejected(sales, bad):
    contact = ContactFactory()
    with pytest.raises(ValidationError) as info:
        contact_change_stage(contact=contact, stage=bad, actor=sales)
    assert "stage" in info.value.message_dict
    contact.refresh_from_db()
    assert contact.stage == 0
    assert not StageChange.objects.exists()


def test_same_stage_is_rejected_for_people(sales):
    contact = ContactFactory(stage=1)
    with pytest.raises(ValidationError):
        contact_change_stage(contact=contact, stage=1, actor=sales)


def test_needs_exactly_one_actor_or_rule(sales):
    contact = ContactFactory()
    with pytest.raises(ValidationError):
        contact_change_stage(contact=contact, stage=1)
    with pytest.raises(ValidationError):
        contact_change_stage(contact=contact, stage=1, actor=sales, rule="x")


def test_database_rejects_an_invalid_stage():
    from django.db import IntegrityError, transaction

    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(contact).objects.filter(pk=contact.pk).update(stage=7)


def test_default_rules_are_seeded():
    rules = {r.name: (r.kind, r.target_stage, r.active) for r in StageRule.objects.all()}
    assert rules == {
        FOLLOW_RULE: ("follow", 1, True),
        "Repeated engagement": ("engagement", 1, True),
        "Direct message to us": ("dm", 1, True),
        "Purchase": ("purchase", 2, True),
    }
    assert StageRule.objects.get(kind="engagement").threshold == 3


def test_follow_and_dm_move_to_lead_naming_the_rule():
    follower, writer, liker = ContactFactory(), ContactFactory(), ContactFactory()
    entries = [
        TimelineEntryFactory(contact=follower, kind="follow", text=""),
        TimelineEntryFactory(contact=writer, kind="dm"),
        TimelineEntryFactory(contact=liker, kind="like"),
        TimelineEntryFactory(contact=writer, kind="dm", direction="out"),
    ]
    changes = stage_rules_apply(entries=(e for e in entries))  # any iterable
    assert {(c.contact_id, c.rule) for c in changes} == {
        (follower.pk, FOLLOW_RULE),
        (writer.pk, "Direct message to us"),
    }
    for change in changes:
        assert change.stage_rule.name == change.rule
        assert change.actor is None
        assert (change.from_stage, change.to_stage) == (0, 1)
    liker.refresh_from_db()
    assert liker.stage == 0
    # The sync page also moves each contact's last interaction forward.
    writer.refresh_from_db()
    assert writer.last_interaction_at == max(e.occurred_at for e in entries if e.contact == writer)


def test_engagement_needs_n_within_d_days():
    rule = StageRule.objects.get(kind="engagement")
    rule.threshold, rule.window_days = 2, 7
    rule.save()
    now = timezone.now()
    talker, slow = ContactFactory(), ContactFactory()
    TimelineEntryFactory(contact=slow, kind="mention", occurred_at=now - timedelta(days=20))
    entries = [
        TimelineEntryFactory(contact=talker, kind="reply", occurred_at=now - timedelta(days=1)),
        TimelineEntryFactory(contact=talker, kind="mention", occurred_at=now),
        TimelineEntryFactory(contact=slow, kind="mention", occurred_at=now),
    ]
    changes = stage_rules_apply(entries=entries)
    assert [(c.contact_id, c.rule) for c in changes] == [(talker.pk, "Repeated engagement")]
    assert changes[0].reason == "2 replies or mentions within 7 days"


def test_rules_fire_once_and_never_backwards(sales):
    contact = ContactFactory()
    follow = TimelineEntryFactory(contact=contact, kind="follow")
    assert len(stage_rules_apply(entries=[follow])) == 1
    assert stage_rules_apply(entries=[follow]) == []  # the same page again

    # A person moves them back; a new follow does not fire the rule a second time.
    contact_change_stage(contact=contact, stage=0, actor=sales, reason="Mistake")
    again = TimelineEntryFactory(contact=contact, kind="follow")
    assert stage_rules_apply(entries=[again]) == []
    contact.refresh_from_db()
    assert contact.stage == 0
    # But another rule still may.
    dm = TimelineEntryFactory(contact=contact, kind="dm")
    assert [c.rule for c in stage_rules_apply(entries=[dm])] == ["Direct message to us"]

    customer = ContactFactory(stage=Stage.CUSTOMER)
    assert stage_rules_apply(entries=[TimelineEntryFactory(contact=customer, kind="dm")]) == []
    customer.refresh_from_db()
    assert customer.stage == Stage.CUSTOMER
    assert not StageChange.objects.filter(contact=customer).exists()


def test_inactive_and_edited_rules():
    StageRule.objects.filter(kind="follow").update(active=False)
    contact = ContactFactory()
    assert stage_rules_apply(entries=[TimelineEntryFactory(contact=contact, kind="follow")]) == []
    StageRule.objects.create(name="Straight to customer on DM", kind="dm", target_stage=2)
    changes = stage_rules_apply(entries=[TimelineEntryFactory(contact=contact, kind="dm")])
    # Both DM rules apply in target order: to 1, then to 2; each recorded by name.
    assert [(c.rule, c.to_stage) for c in changes] == [
        ("Direct message to us", 1),
        ("Straight to customer on DM", 2),
    ]
    assert TimelineEntry.objects.filter(contact=contact, kind="stage_change").count() == 2


def test_query_count_of_a_sync_page_is_bounded(django_assert_max_num_queries):
    entries = [TimelineEntryFactory(kind="mention") for _ in range(30)]
    # 30 contacts touched, 3 rules read, one grouped engagement count, no rule fires.
    with django_assert_max_num_queries(30 + 4):
        assert stage_rules_apply(entries=entries) == []
