"""Stage rules applied by sync and by events. Rules only move contacts forward and
every move is a StageChange naming the rule (through ``contact_change_stage``).

Called by the sync engine after a page of entries is stored: ``stage_rules_apply``.
"""

from __future__ import annotations

from collections.abc import Iterable

from contacts.models import Contact, Stage, StageChange
from contacts.services import contact_change_stage
from crm.choices import Direction, EntryKind

FOLLOW_RULE = "Follow of our account"


def stage_rules_apply(*, entries: Iterable) -> list[StageChange]:
    """Apply the stage rules to newly stored timeline entries (any iterable of
    ``TimelineEntry``). Returns the stage changes made. Must run inside the caller's
    transaction so a page and its consequences commit together."""
    followers = {
        e.contact_id
        for e in entries
        if e.kind == EntryKind.FOLLOW and e.direction == Direction.INBOUND
    }
    changes = []
    for contact in Contact.objects.filter(pk__in=followers, stage=Stage.DISCOVERED):
        change = contact_change_stage(
            contact=contact,
            stage=Stage.LEAD,
            rule=FOLLOW_RULE,
            reason="Followed one of our accounts",
        )
        if change:
            changes.append(change)
    return changes
