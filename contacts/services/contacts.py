"""Writes on a contact's own record: create, update (fields and tags), bulk actions from
the list, notes on its timeline. Every change to its fields is written to its audit
history; a stage is changed only through ``stages.contact_change_stage``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import (
    Contact,
    ContactAudit,
    SocialIdentity,
    Stage,
    Tag,
    TimelineEntry,
    timeline_event_record,
)
from core.choices import EntryKind

from .audit import audit_record, audit_value
from .stages import contact_change_stage


@transaction.atomic
def contact_create(
    *,
    actor: AbstractBaseUser | None,
    fields: dict[str, Any],
    tags: Iterable[Tag] = (),
    identities: Iterable[dict[str, Any]] = (),
    stage: int = Stage.DISCOVERED,
    note: str = "",
) -> Contact:
    """A new contact with its tags and identities, at ``stage`` (recorded as a change
    by ``actor`` when it is not Discovered)."""
    contact = Contact.objects.create(**fields)
    contact.tags.set(tags)
    for data in identities:
        SocialIdentity.objects.update_or_create(
            network=data["network"],
            external_id=data["external_id"],
            defaults={**data, "contact": contact},
        )
    audit_record(
        contact=contact,
        actor=actor,
        action=ContactAudit.Action.CREATE,
        changes={f: [None, audit_value(v)] for f, v in fields.items() if v not in ("", None)},
        note=note,
    )
    if stage != Stage.DISCOVERED and actor is not None:
        contact_change_stage(
            contact=contact, stage=stage, actor=actor, reason=note or _("Created with this stage")
        )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: AbstractBaseUser | None,
    fields: dict[str, Any],
    tags: Iterable[Tag] | None = None,
    action: str = ContactAudit.Action.UPDATE,
    note: str = "",
) -> dict[str, list]:
    """Change ``contact``'s own fields (not its stage) and its tags, and write what
    changed (old and new values) to the audit history. Returns the changes."""
    changes: dict[str, list] = {}
    for name, value in fields.items():
        if name == "stage":
            raise ValidationError({"stage": _("Change a stage with contact_change_stage.")})
        old = getattr(contact, name)
        if old != value:
            changes[name] = [audit_value(old), audit_value(value)]
            setattr(contact, name, value)
    if changes:
        update_fields = [Contact._meta.get_field(n).attname for n in changes]
        contact.full_clean(exclude=[f.name for f in Contact._meta.fields if f.name not in changes])
        contact.save(update_fields=[*update_fields, "updated_at"])
    if tags is not None:
        tags = list(tags)
        old_tags = sorted(t.name for t in contact.tags.all())
        new_tags = sorted(t.name for t in tags)
        if old_tags != new_tags:
            contact.tags.set(tags)
            changes["tags"] = [old_tags, new_tags]
    if changes:
        audit_record(contact=contact, actor=actor, action=action, changes=changes, note=note)
    return changes


@dataclass
class BulkResult:
    updated: int
    skipped: int


@transaction.atomic
def contacts_bulk_apply(
    *,
    contact_ids: Iterable[int],
    actor: AbstractBaseUser,
    owner: AbstractBaseUser | None = None,
    unassign: bool = False,
    tag: str = "",
    stage: int | None = None,
    reason: str = "",
) -> BulkResult:
    """Assign an owner, add a tag or change the stage of many contacts at once (each
    audited; a stage change to the stage a contact is already at is skipped)."""
    contacts = list(
        Contact.objects.filter(pk__in=list(contact_ids)).select_related("owner").order_by("pk")
    )
    updated = skipped = 0
    tag_obj = Tag.objects.get_or_create(name=tag.strip()[:64])[0] if tag.strip() else None
    for contact in contacts:
        changed = False
        if owner is not None or unassign:
            changed |= bool(contact_update(contact=contact, actor=actor, fields={"owner": owner}))
        if tag_obj is not None and not contact.tags.filter(pk=tag_obj.pk).exists():
            contact.tags.add(tag_obj)
            audit_record(
                contact=contact,
                actor=actor,
                action=ContactAudit.Action.UPDATE,
                changes={"tags": [None, f"+{tag_obj.name}"]},
            )
            changed = True
        if stage is not None and contact.can_move_to(stage, backwards=True):
            contact_change_stage(contact=contact, stage=stage, actor=actor, reason=reason)
            changed = True
        updated += changed
        skipped += not changed
    return BulkResult(updated=updated, skipped=skipped)


@transaction.atomic
def contact_add_note(*, contact: Contact, author: AbstractBaseUser, text: str) -> TimelineEntry:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("A note cannot be empty.")})
    return timeline_event_record(
        contact_id=contact.pk, kind=EntryKind.NOTE, text=text, actor=author
    )
