import pytest
from django.core.exceptions import ValidationError

from contacts.models import Stage, StageChange, TimelineEntry
from contacts.services import contact_change_stage
from tests.factories import ContactFactory

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
