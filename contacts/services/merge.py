"""Merging two contacts into one: every row that refers to the other (in any app) moves
to the survivor, in one transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.models import Contact, ContactAudit
from contacts.search import timeline_documents_merge

from .activity import contacts_score_refresh_on_commit
from .audit import audit_record, audit_value
from .relations import ContactRelation, contact_generic_references, contact_relations
from .stages import contact_change_stage


def _unique_sets(model, fk: str) -> list[tuple[list[str], Q]]:
    """The unique keys of ``model`` that include ``fk``: (the other fields, condition)."""
    sets = []
    field = model._meta.get_field(fk)
    if field.unique:
        sets.append(([], Q()))
    for together in model._meta.unique_together:
        if fk in together:
            sets.append(([f for f in together if f != fk], Q()))
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if fk in fields and type(constraint).__name__ == "UniqueConstraint":
            sets.append(([f for f in fields if f != fk], constraint.condition or Q()))
    return sets


def _drop_merge_conflicts(relation: ContactRelation, survivor: Contact, other: Contact) -> int:
    """Delete ``other``'s rows that would duplicate a unique key the survivor already
    holds (e.g. both were tagged "vip"; both were in the same campaign)."""
    dropped = 0
    for others, condition in _unique_sets(relation.model, relation.field):
        mine = set(relation.rows(survivor.pk).filter(condition).values_list(*others or ["pk"]))
        if not mine:
            continue
        theirs = relation.rows(other.pk).filter(condition)
        if others:
            clash = [pk for pk, *key in theirs.values_list("pk", *others) if tuple(key) in mine]
        else:
            clash = list(theirs.values_list("pk", flat=True))
        dropped += relation.model._base_manager.filter(pk__in=clash).delete()[0]
    return dropped


@transaction.atomic
def contact_merge(
    *, survivor: Contact, other: Contact, actor: AbstractBaseUser | None
) -> dict[str, Any]:
    """Merge ``other`` into ``survivor``: every row that refers to ``other`` (identities,
    timeline, purchases, to-dos, stage changes, history, and any other app's rows) moves
    to the survivor, blank fields are filled from ``other``, the higher stage wins,
    and ``other`` is deleted. Atomic; both rows are locked (in id order). Returns what
    moved, which is also written to the survivor's history."""
    if survivor.pk == other.pk:
        raise ValidationError({"other_id": _("A contact cannot be merged with itself.")})
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[survivor.pk, other.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError({"other_id": _("That contact no longer exists.")})
    survivor, other = locked[survivor.pk], locked[other.pk]
    timeline_documents_merge(survivor_id=survivor.pk, other_id=other.pk)

    moved: dict[str, int] = {}
    for relation in contact_relations():
        _drop_merge_conflicts(relation, survivor, other)
        count = relation.rows(other.pk).update(**{relation.field: survivor.pk})
        if count:
            moved[relation.label] = count
    contact_type = ContentType.objects.get_for_model(Contact)
    for model, ct_field, id_field in contact_generic_references():
        count = model._base_manager.filter(**{ct_field: contact_type, id_field: other.pk}).update(
            **{id_field: survivor.pk}
        )
        if count:
            moved[model._meta.label_lower] = moved.get(model._meta.label_lower, 0) + count

    filled = {}
    for name in ("email", "phone", "company", "language", "owner"):
        if not getattr(survivor, name) and getattr(other, name):
            filled[name] = [None, audit_value(getattr(other, name))]
            setattr(survivor, name, getattr(other, name))
    if other.last_interaction_at and (
        not survivor.last_interaction_at or other.last_interaction_at > survivor.last_interaction_at
    ):
        survivor.last_interaction_at = other.last_interaction_at
    survivor.save(
        update_fields=[
            *[Contact._meta.get_field(n).attname for n in filled],
            "last_interaction_at",
            "updated_at",
        ]
    )
    summary = {
        "id": other.pk,
        "display_name": other.display_name,
        "email": other.email,
        "stage": other.stage,
        "moved": moved,
    }
    other.delete()
    note = _("Merged #%(id)s into this contact") % {"id": summary["id"]}
    audit_record(
        contact=survivor,
        actor=actor,
        action=ContactAudit.Action.MERGE,
        changes={**filled, "merged": summary},
        note=note,
    )
    if summary["stage"] > survivor.stage:
        stage_by = {"actor": actor} if actor is not None else {"rule": "Merge"}
        contact_change_stage(contact=survivor, stage=summary["stage"], reason=note, **stage_by)
    contacts_score_refresh_on_commit(contact_ids=[survivor.pk])
    return summary
