"""How contacts move between stages. Every move goes through ``contact_change_stage``
(a person or a rule) or, for many contacts at once by a rule, ``contacts_advance_by_rule``;
each is a StageChange, a timeline entry and an audit entry.

The stage rules (configured in the admin as ``StageRule``) only move contacts forward
and fire at most once per contact. The sync engine calls ``stage_rules_apply`` after it
stores a page of entries; events Momento records itself (a purchase) call
``stage_rules_apply_event``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    Contact,
    ContactAudit,
    Stage,
    StageChange,
    StageRule,
    TimelineEntry,
    timeline_event_record,
)
from core.choices import Direction, EntryKind

from .activity import contacts_score_refresh_on_commit, contacts_touch
from .audit import audit_record

#: The name of the seeded follow rule (migration ``0004_seed_default_stage_rules``).
FOLLOW_RULE = "Follow of our account"


@transaction.atomic
def contact_change_stage(
    *,
    contact: Contact,
    stage: int,
    actor: AbstractBaseUser | None = None,
    rule: str = "",
    reason: str = "",
    stage_rule: StageRule | None = None,
) -> StageChange | None:
    """Move ``contact`` to ``stage`` and record who or what did it and why.

    A person (``actor``) may move a contact to any other stage; a rule (``rule``) only
    forwards, and a rule whose move is not forward is a no-op returning ``None``. A
    configured ``stage_rule`` fires at most once per contact (also a no-op after that).
    Raises ``ValidationError`` for an unknown stage, the current stage, or neither or
    both of actor and rule. Locks the contact row for the duration.
    """
    if (actor is None) == (not rule):
        raise ValidationError(_("A stage change needs exactly one of a person or a rule."))
    try:
        stage = int(stage)
    except (TypeError, ValueError):
        raise ValidationError({"stage": _("Stage must be 0, 1 or 2.")}) from None
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Stage must be 0, 1 or 2.")})

    locked = Contact.objects.select_for_update().only("id", "stage").get(pk=contact.pk)
    if not locked.can_move_to(stage, backwards=actor is not None):
        if rule:
            return None
        raise ValidationError({"stage": _("The contact is already at this stage.")})
    if stage_rule and StageChange.objects.filter(contact=locked, stage_rule=stage_rule).exists():
        return None

    change = StageChange.objects.create(
        contact=locked,
        from_stage=locked.stage,
        to_stage=stage,
        actor=actor,
        rule=rule,
        stage_rule=stage_rule,
        reason=reason,
    )
    Contact.objects.filter(pk=locked.pk).update(stage=stage, updated_at=timezone.now())
    contact.stage = stage
    timeline_event_record(
        contact_id=locked.pk,
        kind=EntryKind.STAGE_CHANGE,
        subject=change,
        text=reason,
        actor=actor,
        raw={"from": change.from_stage, "to": change.to_stage, "rule": rule},
    )
    audit_record(
        contact=locked,
        actor=actor,
        action=ContactAudit.Action.STAGE,
        changes={"stage": [change.from_stage, change.to_stage]},
        note=rule or reason,
    )
    return change


@transaction.atomic
def contacts_advance_by_rule(
    *, contact_ids: Iterable[int], stage_rule: StageRule, reason: str
) -> list[StageChange]:
    """``contact_change_stage`` for many contacts at once, by a configured rule: the
    same history (StageChange, timeline entry, audit) in a constant number of queries,
    so a sync page with hundreds of follows stays a bulk write.

    Moves only contacts below the rule's target that this rule has not moved before
    (a rule fires once, never backwards). Locks the contact rows; run it inside the
    caller's transaction."""
    stage = stage_rule.target_stage
    rows = list(
        Contact.objects.select_for_update()
        .filter(pk__in=set(contact_ids), stage__lt=stage)
        .exclude(stage_changes__stage_rule=stage_rule)
        .order_by("pk")
        .values_list("pk", "stage")
    )
    if not rows:
        return []
    now = timezone.now()
    changes = StageChange.objects.bulk_create(
        [
            StageChange(
                contact_id=pk,
                from_stage=from_stage,
                to_stage=stage,
                rule=stage_rule.name,
                stage_rule=stage_rule,
                reason=reason,
            )
            for pk, from_stage in rows
        ]
    )
    Contact.objects.filter(pk__in=[pk for pk, _ in rows]).update(stage=stage, updated_at=now)
    TimelineEntry.objects.bulk_create(
        [
            timeline_event_record(
                contact_id=change.contact_id,
                kind=EntryKind.STAGE_CHANGE,
                subject=change,
                text=reason,
                occurred_at=now,
                raw={"from": change.from_stage, "to": stage, "rule": stage_rule.name},
                build_only=True,
            )
            for change in changes
        ]
    )
    ContactAudit.objects.bulk_create(
        [
            ContactAudit(
                contact_id=change.contact_id,
                action=ContactAudit.Action.STAGE,
                changes={"stage": [change.from_stage, stage]},
                note=stage_rule.name[:500],
            )
            for change in changes
        ]
    )
    return changes


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
            kind__in=StageRule.ENGAGEMENT_KINDS,
            occurred_at__gte=since,
        )
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gte=rule.threshold)
        .values_list("contact_id", flat=True)
    )


def stage_rules_apply(*, entries: Iterable, touch: bool = True) -> list[StageChange]:
    """Apply the active stage rules to newly stored timeline entries, move each
    contact's last interaction forward and queue their score refresh. ``entries`` is any
    iterable of ``TimelineEntry`` or of objects with its ``contact_id``, ``kind``,
    ``direction`` and ``occurred_at`` (the sync engine passes those). Returns the stage
    changes made. Must run inside the caller's transaction so a page and its
    consequences commit together. ``touch=False``: the caller moved the contacts' last
    interaction already (ingest's follow-up does, with their search documents, through
    ``contacts_activity_append``)."""
    entries = [e for e in entries if e.contact_id]
    if not entries:
        return []
    if touch:
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
            engaged = {e.contact_id for e in inbound if e.kind in StageRule.ENGAGEMENT_KINDS}
            ids = _engaged(rule, engaged)
            reason = f"{rule.threshold} replies or mentions within {rule.window_days} days"
        if ids:
            changes += contacts_advance_by_rule(contact_ids=ids, stage_rule=rule, reason=reason)
    contacts_score_refresh_on_commit(contact_ids=(e.contact_id for e in entries))
    return changes


def stage_rules_apply_event(*, kind: str, contact: Contact, reason: str) -> list[StageChange]:
    """Apply the active rules of ``kind`` (e.g. purchase) to one contact after an event
    recorded by Momento itself."""
    changes: list[StageChange] = []
    for rule in StageRule.objects.filter(active=True, kind=kind):
        changes += contacts_advance_by_rule(
            contact_ids=[contact.pk], stage_rule=rule, reason=reason
        )
    return changes
