"""Writes on contacts. Every stage change goes through ``contact_change_stage``; every
change to a contact's own fields is written to its audit history (``ContactAudit``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import TimelineEntry
from core.choices import Direction, EntryKind

from .models import (
    Contact,
    ContactAudit,
    Purchase,
    SocialIdentity,
    Stage,
    StageChange,
    StageRule,
    Tag,
    Task,
)
from .search import timeline_documents_merge, timeline_documents_rebuild

#: The contact fields whose changes are written to the audit history.
AUDITED_FIELDS = ("display_name", "email", "phone", "company", "language", "owner")


def _audit_value(value: Any) -> Any:
    if isinstance(value, AbstractBaseUser):
        return value.get_username()
    if isinstance(value, datetime | Decimal):
        return str(value)
    return value


def audit_record(
    *,
    contact: Contact,
    actor: AbstractBaseUser | None,
    action: str,
    changes: dict | None = None,
    note: str = "",
) -> ContactAudit:
    return ContactAudit.objects.create(
        contact=contact, actor=actor, action=action, changes=changes or {}, note=note[:500]
    )


def _on_commit_score(contact_ids: Iterable[int]) -> None:
    from .tasks import contacts_score_refresh

    ids = sorted(set(contact_ids))
    if ids:
        # A score is worth a refresh, not a failed request: robust logs a broker error.
        transaction.on_commit(lambda: contacts_score_refresh.delay(ids), robust=True)


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
    TimelineEntry.objects.create(
        contact_id=locked.pk,
        kind=EntryKind.STAGE_CHANGE,
        direction=Direction.INTERNAL,
        text=reason,
        occurred_at=timezone.now(),
        created_by=actor,
        content_type=ContentType.objects.get_for_model(StageChange),
        object_id=change.pk,
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
    content_type = ContentType.objects.get_for_model(StageChange)
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                contact_id=change.contact_id,
                kind=EntryKind.STAGE_CHANGE,
                direction=Direction.INTERNAL,
                text=reason,
                occurred_at=now,
                content_type=content_type,
                object_id=change.pk,
                raw={"from": change.from_stage, "to": stage, "rule": stage_rule.name},
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
        changes={f: [None, _audit_value(v)] for f, v in fields.items() if v not in ("", None)},
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
            changes[name] = [_audit_value(old), _audit_value(value)]
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


def contacts_touch(*, entries: Iterable[TimelineEntry]) -> None:
    """Move each contact's ``last_interaction_at`` forward to its newest social entry."""
    newest: dict[int, datetime] = {}
    for entry in entries:
        if entry.kind in (EntryKind.NOTE, EntryKind.STAGE_CHANGE, EntryKind.TASK):
            continue
        if entry.contact_id and (
            entry.contact_id not in newest or entry.occurred_at > newest[entry.contact_id]
        ):
            newest[entry.contact_id] = entry.occurred_at
    if not newest:
        return
    # One statement for a whole sync page (PostgreSQL), or one lookup and one bulk
    # update per 500 contacts elsewhere: never a query per contact.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE contacts_contact AS c SET last_interaction_at = v.t
                   FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t)
                   WHERE c.id = v.id
                     AND (c.last_interaction_at IS NULL OR c.last_interaction_at < v.t)""",
                [list(newest), list(newest.values())],
            )
        return
    ids = list(newest)
    stale = []
    for start in range(0, len(ids), 500):
        for contact in Contact.objects.filter(pk__in=ids[start : start + 500]).only(
            "id", "last_interaction_at"
        ):
            when = newest[contact.pk]
            if contact.last_interaction_at is None or contact.last_interaction_at < when:
                contact.last_interaction_at = when
                stale.append(contact)
    Contact.objects.bulk_update(stale, ["last_interaction_at"], batch_size=500)


# --- Tasks --------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    contact: Contact,
    title: str,
    due_at: datetime,
    assignee: AbstractBaseUser | None,
    actor: AbstractBaseUser | None,
) -> Task:
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("A task needs a title.")})
    task = Task.objects.create(
        contact=contact, title=title, due_at=due_at, assignee=assignee, created_by=actor
    )
    TimelineEntry.objects.create(
        contact=contact,
        kind=EntryKind.TASK,
        direction=Direction.INTERNAL,
        text=title,
        created_by=actor,
        occurred_at=timezone.now(),
        content_type=ContentType.objects.get_for_model(Task),
        object_id=task.pk,
        raw={"due_at": due_at.isoformat(), "assignee": assignee and assignee.get_username()},
    )
    return task


def task_complete(*, task: Task, done: bool = True) -> Task:
    """Mark ``task`` done (or open again); idempotent."""
    if done and task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
    elif not done and task.done_at is not None:
        task.done_at = None
        task.save(update_fields=["done_at"])
    return task


def task_reminders_send(*, now: datetime, limit: int = 500) -> int:
    """Notify each assignee once of their tasks that have come due. The notification's
    ``dedupe_key`` makes a second run (or a concurrent beat) a no-op."""
    from core.models import Notification

    due = list(
        Task.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now)
        .exclude(assignee__isnull=True)
        .select_related("contact")
        .order_by("due_at")[:limit]
    )
    if not due:
        return 0
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=task.assignee_id,
                title=_("Task due: %(title)s") % {"title": task.title},
                body=task.contact.display_name,
                url=f"/contacts/{task.contact_id}/#tasks",
                dedupe_key=f"task-due:{task.pk}",
            )
            for task in due
        ],
        ignore_conflicts=True,
    )
    Task.objects.filter(pk__in=[t.pk for t in due]).update(reminded_at=now)
    return len(due)


# --- Purchases ----------------------------------------------------------------------


def contact_for_handle(*, network: str, handle: str, actor: AbstractBaseUser | None) -> Contact:
    """The contact with ``handle`` on ``network``; a new one when nobody has it yet
    (its identity is keyed ``handle:<handle>`` until sync learns the network's id)."""
    handle = handle.strip().lstrip("@")
    identity = (
        SocialIdentity.objects.filter(network=network, handle__iexact=handle)
        .select_related("contact")
        .order_by("id")
        .first()
    )
    if identity:
        return identity.contact
    return contact_create(
        actor=actor,
        fields={"display_name": handle},
        identities=[
            {"network": network, "handle": handle, "external_id": f"handle:{handle.lower()}"}
        ],
        note=_("Created for a purchase by handle"),
    )


@transaction.atomic
def purchase_record(
    *,
    contact: Contact,
    amount: Decimal,
    currency: str,
    product: str,
    source: str = "manual",
    external_ref: str = "",
    purchased_at: datetime | None = None,
    actor: AbstractBaseUser | None = None,
) -> tuple[Purchase, bool]:
    """Record a purchase once per ``(source, external_ref)``: returns ``(purchase,
    created)``, the existing one when it was recorded before. A new purchase goes on
    the timeline and applies the purchase rules (→ stage 2)."""
    from .rules import stage_rules_apply_event

    if external_ref:
        existing = Purchase.objects.filter(source=source, external_ref=external_ref).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                contact=contact,
                amount=amount,
                currency=currency.upper(),
                product=product,
                source=source,
                external_ref=external_ref,
                purchased_at=purchased_at or timezone.now(),
                created_by=actor,
            )
    except IntegrityError:
        # The same order posted twice at once: the other request stored it.
        return Purchase.objects.get(source=source, external_ref=external_ref), False
    entry = TimelineEntry.objects.create(
        contact=contact,
        kind=EntryKind.PURCHASE,
        direction=Direction.INTERNAL,
        text=product,
        created_by=actor,
        occurred_at=purchase.purchased_at,
        content_type=ContentType.objects.get_for_model(Purchase),
        object_id=purchase.pk,
        raw={"amount": str(purchase.amount), "currency": purchase.currency, "source": source},
    )
    contacts_touch(entries=[entry])
    stage_rules_apply_event(
        kind=StageRule.Kind.PURCHASE,
        contact=contact,
        reason=_("Purchase: %(product)s") % {"product": product},
    )
    _on_commit_score([contact.pk])
    return purchase, True


# --- Relations to contacts, found generically ---------------------------------------
# Merge, erase, export and their tests walk every model that refers to a contact, so
# rows added later by other apps (tickets, campaign members) are covered without
# changes here.


@dataclass(frozen=True)
class ContactRelation:
    """A model with a foreign key (``field``) to Contact: a reverse FK or one-to-one,
    or the through table of a many-to-many."""

    model: type
    field: str

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def rows(self, contact_id: int):
        return self.model._base_manager.filter(**{self.field: contact_id})


def contact_relations() -> list[ContactRelation]:
    """Every table that refers to a contact."""
    relations = []
    for rel in Contact._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            fk = next(
                f.name
                for f in through._meta.concrete_fields
                if f.is_relation and f.related_model is Contact
            )
            relations.append(ContactRelation(through, fk))
        else:
            relations.append(ContactRelation(rel.related_model, rel.field.name))
    for field in Contact._meta.many_to_many:
        relations.append(ContactRelation(field.remote_field.through, field.m2m_field_name()))
    return relations


def contact_generic_references() -> list[tuple[type, str, str]]:
    """``(model, content_type field, object_id field)`` of every generic foreign key."""
    from django.apps import apps
    from django.contrib.contenttypes.fields import GenericForeignKey

    found = []
    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.append((model, field.ct_field, field.fk_field))
    return found


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
    timeline, purchases, tasks, stage changes, history, and any other app's rows) moves
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
            filled[name] = [None, _audit_value(getattr(other, name))]
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
    _on_commit_score([survivor.pk])
    return summary


# --- GDPR ---------------------------------------------------------------------------

ERASED = "[erased]"


def _rows_as_dicts(queryset) -> list[dict]:
    from django.core import serializers

    return [{"id": row["pk"], **row["fields"]} for row in serializers.serialize("python", queryset)]


@transaction.atomic
def contact_export(*, contact: Contact, actor: AbstractBaseUser | None) -> dict[str, Any]:
    """Everything stored about ``contact`` as JSON-ready data: its fields and tags, and
    the rows of every table that refers to it (identities, timeline, purchases, tasks,
    stage changes, history, and any other app's rows). Recorded in the history."""
    data: dict[str, Any] = {
        "contact": _rows_as_dicts(Contact.objects.filter(pk=contact.pk))[0],
        "exported_at": timezone.now().isoformat(),
    }
    data["contact"]["tags"] = sorted(contact.tags.values_list("name", flat=True))
    data["contact"].pop("search_document", None)
    data["contact"].pop("timeline_document", None)
    related = {}
    for relation in contact_relations():
        if relation.model is Contact.tags.through:
            continue
        related[relation.label] = _rows_as_dicts(relation.rows(contact.pk).order_by("pk"))
    data["related"] = related
    audit_record(contact=contact, actor=actor, action=ContactAudit.Action.EXPORT)
    return data


def _erase_generic(model, rows) -> None:
    """Erase what other apps' rows about a contact say. A model may define
    ``gdpr_erase(queryset)`` (a classmethod) to do it itself, e.g. to reach rows of its
    own that hang off these; otherwise every free-text, JSON and free-form character
    field is blanked, except those the model lists in ``GDPR_KEEP`` and those that are
    choices or part of a unique key."""
    from django.db.models import CharField, JSONField, TextField

    if hasattr(model, "gdpr_erase"):
        model.gdpr_erase(rows)
        return
    keep = set(getattr(model, "GDPR_KEEP", ()))
    unique = {f for together in model._meta.unique_together for f in together}
    for constraint in model._meta.constraints:
        unique |= set(getattr(constraint, "fields", ()))
    values = {}
    for field in model._meta.concrete_fields:
        if field.name in keep or field.primary_key or field.is_relation:
            continue
        if isinstance(field, JSONField):
            values[field.attname] = field.get_default()
        elif isinstance(field, TextField | CharField) and not field.choices:
            if field.unique or field.name in unique:
                continue
            values[field.attname] = "" if field.blank else ERASED[: field.max_length or None]
    if values:
        rows.update(**values)


@transaction.atomic
def contact_erase(*, contact: Contact, actor: AbstractBaseUser | None) -> dict[str, int]:
    """Erase ``contact``'s personal data (GDPR): its name, email, phone and company; its
    identities' handles, names, links and network ids; the text, links and raw payloads
    of its timeline (posts, DMs, notes); task titles; old and new values in its history;
    free text in any other app's rows about it. Rows stay, so counts (interactions by
    kind, purchases, stage changes) are kept. Locks the contact. Recorded in history."""
    from django.db.models import Value
    from django.db.models.functions import MD5, Concat

    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    pk = contact.pk
    Contact.objects.filter(pk=pk).update(
        display_name=_("Erased contact #%(id)s") % {"id": pk},
        email="",
        phone="",
        company="",
        language="",
        updated_at=timezone.now(),
    )
    identities = SocialIdentity.objects.filter(contact_id=pk)
    for identity in identities:
        identity.handle = f"erased-{identity.pk}"
        identity.display_name = ""
        identity.profile_url = ""
        identity.avatar_url = ""
        identity.follower_count = None
        identity.external_id = f"erased-{identity.pk}"
    SocialIdentity.objects.bulk_update(
        identities,
        ["handle", "display_name", "profile_url", "avatar_url", "follower_count", "external_id"],
    )
    entries = TimelineEntry.objects.filter(contact_id=pk)
    # Network ids become hashes: unique still (a re-sync does not import the post again),
    # but no longer pointing at the person.
    entries.exclude(external_id="").exclude(external_id__startswith="erased:").update(
        external_id=Concat(Value("erased:"), MD5("external_id"))
    )
    erased_entries = entries.update(text="", url="", raw={}, in_reply_to="", thread_id="")
    timeline_documents_rebuild(pk)
    Task.objects.filter(contact_id=pk).update(title=ERASED)
    for audit in ContactAudit.objects.filter(contact_id=pk):
        audit.changes = {
            field: [ERASED, ERASED] if isinstance(values, list) else ERASED
            for field, values in audit.changes.items()
        }
        audit.note = ""
        audit.save(update_fields=["changes", "note"])
    handled = {SocialIdentity, TimelineEntry, Task, ContactAudit, Purchase}
    for relation in contact_relations():
        if relation.model not in handled and not relation.model._meta.auto_created:
            _erase_generic(relation.model, relation.rows(pk))
    audit_record(
        contact=contact,
        actor=actor,
        action=ContactAudit.Action.ERASE,
        note=_("%(count)s timeline entries scrubbed") % {"count": erased_entries},
    )
    return {"timeline_entries": erased_entries, "identities": len(identities)}
