"""``get_FOO_display()`` through ``core.models.ChoiceLabels``: the label in the reader's
language, built once per field and language instead of translating every choice on
every call."""

from django.utils import translation

from contacts.models import Contact, Stage, TimelineEntry


def _entry(**kw) -> TimelineEntry:
    return TimelineEntry(**{"kind": "mention", "direction": "in", "network": "mastodon", **kw})


def test_labels_follow_the_active_language():
    entry = _entry(intent="complaint")
    with translation.override("en"):
        assert entry.get_kind_display() == "Mention"
        assert entry.get_network_display() == "Mastodon"
        assert entry.get_intent_display() == "Complaint"
    with translation.override("es"):
        assert entry.get_kind_display() == "Mención"
        assert entry.get_intent_display() == "Queja"
    # Back in English after Spanish: the table is per language, not the first one built.
    with translation.override("en"):
        assert entry.get_kind_display() == "Mention"


def test_a_value_that_is_no_choice_shows_as_it_is():
    assert _entry(kind="not-a-kind").get_kind_display() == "not-a-kind"
    assert _entry(intent="").get_intent_display() == ""
    assert Contact(stage=99).get_stage_display() == 99


def test_integer_choices_read_their_label():
    with translation.override("en"):
        assert Contact(stage=Stage.LEAD).get_stage_display() == "Lead"
        assert Contact(stage=Stage.DISCOVERED).get_stage_display() == "Discovered"
        assert Contact(stage=2).get_stage_display() == "Customer"
