"""Writes on contacts. Every stage change goes through ``contact_change_stage``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import Direction, EntryKind
from crm.models import TimelineEntry

from .models import Contact, Stage, StageChange


@transaction.atomic
def contact_change_stage(
    *,
    contact: Contact,
    stage: int,
    actor: AbstractBaseUser | None = None,
    rule: str = "",
    reason: str = "",
) -> StageChange | None:
    """Move ``contact`` to ``stage`` and record who or what did it and why.

    A person (``actor``) may move a contact to any other stage; a rule (``rule``) only
    forwards, and a rule whose move is not forward is a no-op returning ``None``.
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

    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if not locked.can_move_to(stage, backwards=actor is not None):
        if rule:
            return None
        raise ValidationError({"stage": _("The contact is already at this stage.")})

    change = StageChange.objects.create(
        contact=locked,
        from_stage=locked.stage,
        to_stage=stage,
        actor=actor,
        rule=rule,
        reason=reason,
    )
    locked.stage = stage
    locked.save(update_fields=["stage", "updated_at"])
    contact.stage = stage
    TimelineEntry.objects.create(
        contact=locked,
        kind=EntryKind.STAGE_CHANGE,
        direction=Direction.INTERNAL,
        text=reason,
        occurred_at=timezone.now(),
        created_by=actor,
        content_type=ContentType.objects.get_for_model(StageChange),
        object_id=change.pk,
        raw={"from": change.from_stage, "to": change.to_stage, "rule": rule},
    )
    return change


@transaction.atomic
def contact_add_note(*, contact: Contact, author: AbstractBaseUser, text: str) -> TimelineEntry:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("A note cannot be empty.")})
    return TimelineEntry.objects.create(
        contact=contact,
        kind=EntryKind.NOTE,
        direction=Direction.INTERNAL,
        text=text,
        created_by=author,
        occurred_at=timezone.now(),
    )
