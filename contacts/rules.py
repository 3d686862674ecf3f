"""Stage rules applied by sync and by events. Rules are configured in the admin
(``StageRule``), only move contacts forward, fire at most once per contact, and every
move is a StageChange naming the rule (through ``contact_change_stage``).

Called by the sync engine after a page of entries is stored: ``stage_rules_apply``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from contacts.models import Contact, StageChange, StageRule, TimelineEntry
from contacts.services import (
    _on_commit_score,
    contacts_advance_by_rule,
    contacts_touch,
)
from core.choices import Direction, EntryKind

FOLLOW_RULE = "Follow of our account"
ENGAGEMENT_KINDS = (EntryKind.MENTION, EntryKind.REPLY, EntryKind.QUOTE)


def _fire(rule: StageRule, contact_ids: Iterable[int], reason: str) -> list[StageChange]:
    """Apply ``rule`` to the contacts it can still move forward and has not moved yet."""
    return contacts_advance_by_rule(contact_ids=contact_ids, stage_rule=rule, reason=reason)


def _engaged(rule: StageRule, contact_ids: set[int]) -> set[int]:
    """Of ``contact_ids``, those with ``threshold`` replies or mentions to us within the
    last ``window_days`` days (one grouped query)."""
    if not contact_ids:
        return set()
    since = timezone.now() - timedelta(days=rule.window_days)
    return set(
        TimelineEntry.objects.filter(
            contact_id__in=contact_ids,
            direction=Direction.INBOUND,
            kind__in=ENGAGEMENT_KINDS,
            occurred_at__gte=since,
        )
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gte=rule.threshold)
        .values_list("contact_id", flat=True)
    )


def stage_rules_apply(*, entries: Iterable) -> list[StageChange]:
    """Apply the active stage rules to newly stored timeline entries (any iterable of
    ``TimelineEntry``), move each contact's last interaction forward and queue their
    score refresh. Returns the stage changes made. Must run inside the caller's
    transaction so a page and its consequences commit together."""
    entries = [e for e in entries if e.contact_id]
    if not entries:
        return []
    contacts_touch(entries=entries)
    inbound = [e for e in entries if e.direction == Direction.INBOUND]
    changes: list[StageChange] = []
    for rule in StageRule.objects.filter(active=True).exclude(kind=StageRule.Kind.PURCHASE):
        if rule.kind == StageRule.Kind.FOLLOW:
            ids = {e.contact_id for e in inbound if e.kind == EntryKind.FOLLOW}
            reason = "Followed one of our accounts"
        elif rule.kind == StageRule.Kind.DM:
            ids = {e.contact_id for e in inbound if e.kind == EntryKind.DM}
            reason = "Sent us a direct message"
        else:
            engaged = {e.contact_id for e in inbound if e.kind in ENGAGEMENT_KINDS}
            ids = _engaged(rule, engaged)
            reason = f"{rule.threshold} replies or mentions within {rule.window_days} days"
        if ids:
            changes += _fire(rule, ids, reason)
    _on_commit_score(e.contact_id for e in entries)
    return changes


def stage_rules_apply_event(*, kind: str, contact: Contact, reason: str) -> list[StageChange]:
    """Apply the active rules of ``kind`` (e.g. purchase) to one contact after an event
    recorded by Momento itself."""
    changes: list[StageChange] = []
    for rule in StageRule.objects.filter(active=True, kind=kind):
        changes += _fire(rule, [contact.pk], reason)
    return changes
