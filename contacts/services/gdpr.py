"""GDPR requests on a contact: export everything stored about them, or erase their
personal data while keeping the rows (and so the counts) that refer to them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core import serializers
from django.db import transaction
from django.db.models import CharField, JSONField, TextField
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    Contact,
    ContactAudit,
    LabelCorrection,
    Purchase,
    SocialIdentity,
    TimelineEntry,
    Todo,
    Tombstone,
)
from contacts.search import timeline_documents_rebuild
from core.fields import FoldedTextField, folded_update_fields, folded_values
from core.signals import contact_erased

from .audit import audit_record
from .relations import contact_relations

ERASED = "[erased]"


def _rows_as_dicts(queryset) -> list[dict]:
    # A folded copy (for search) repeats its row's other fields: not exported twice.
    copies = [f.name for f in queryset.model._meta.fields if isinstance(f, FoldedTextField)]
    rows = [{"id": row["pk"], **row["fields"]} for row in serializers.serialize("python", queryset)]
    for row in rows:
        for name in copies:
            row.pop(name, None)
    return rows


@transaction.atomic
def contact_export(*, contact: Contact, actor: AbstractBaseUser | None) -> dict[str, Any]:
    """Everything stored about ``contact`` as JSON-ready data: its fields and tags, and
    the rows of every table that refers to it (identities, timeline, purchases, to-dos,
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
    of its timeline (posts, DMs, notes); to-do titles; old and new values in its history;
    free text in any other app's rows about it. Rows stay, so counts (interactions by
    kind, purchases, stage changes) are kept. Locks the contact. Recorded in history."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    pk = contact.pk
    erased = {"display_name": _("Erased contact #%(id)s") % {"id": pk}, "email": "", "company": ""}
    Contact.objects.filter(pk=pk).update(
        **erased,
        **folded_values(Contact, **erased),
        phone="",
        language="",
        updated_at=timezone.now(),
    )
    identities = list(SocialIdentity.objects.filter(contact_id=pk))
    entries = TimelineEntry.objects.filter(contact_id=pk)
    items = list(
        entries.exclude(external_id="")
        .exclude(external_id__startswith="erased:")
        .values_list("pk", "network", "external_id")
    )
    erased_items = _tombstones_record(identities, items)
    Tombstone.record(Tombstone.Kind.EMAIL, "", [contact.email])
    for identity in identities:
        identity.handle = f"erased-{identity.pk}"
        identity.display_name = ""
        identity.profile_url = ""
        identity.avatar_url = ""
        identity.follower_count = None
        identity.external_id = f"erased-{identity.pk}"
    SocialIdentity.objects.bulk_update(
        identities,
        folded_update_fields(
            identities,
            [
                "handle",
                "display_name",
                "profile_url",
                "avatar_url",
                "follower_count",
                "external_id",
            ],
        ),
    )
    # Network ids become their keyed hashes: unique still, no longer pointing at the
    # person; the tombstones keep every write path from storing them again.
    TimelineEntry.objects.bulk_update(
        [
            TimelineEntry(pk=entry_pk, external_id=f"erased:{Tombstone.digest_of('item', n, i)}")
            for entry_pk, n, i in items
        ],
        ["external_id"],
        batch_size=1000,
    )
    erased_entries = entries.update(
        text="",
        **folded_values(TimelineEntry, text=""),
        url="",
        raw={},
        in_reply_to="",
        thread_id="",
    )
    LabelCorrection.objects.filter(entry__contact_id=pk).delete()  # they copy the text
    timeline_documents_rebuild(pk)
    Todo.objects.filter(contact_id=pk).update(title=ERASED)
    for audit in ContactAudit.objects.filter(contact_id=pk):
        audit.changes = {
            field: [ERASED, ERASED] if isinstance(values, list) else ERASED
            for field, values in audit.changes.items()
        }
        audit.note = ""
        audit.save(update_fields=["changes", "note"])
    handled = {SocialIdentity, TimelineEntry, Todo, ContactAudit, Purchase}
    for relation in contact_relations():
        if relation.model not in handled and not relation.model._meta.auto_created:
            _erase_generic(relation.model, relation.rows(pk))
    contact_erased.send(sender=Contact, contact_id=pk, items=erased_items)
    audit_record(
        contact=contact,
        actor=actor,
        action=ContactAudit.Action.ERASE,
        note=_("%(count)s timeline entries scrubbed") % {"count": erased_entries},
    )
    return {"timeline_entries": erased_entries, "identities": len(identities)}


def _tombstones_record(
    identities: list[SocialIdentity], items: list[tuple[int, str, str]]
) -> dict[str, list[str]]:
    """Tombstones for the person's network user ids, handles and item ids, so no sync,
    listening run or import brings her back. Returns her item ids by network."""
    by_network: dict[str, dict[str, set[str]]] = {}
    for identity in identities:
        if identity.external_id.startswith("erased-"):
            continue
        kinds = by_network.setdefault(identity.network, {"author": set(), "handle": set()})
        kinds["author"].add(identity.external_id)
        kinds["handle"].add(identity.handle)
    erased_items: dict[str, list[str]] = {}
    for _pk, network, external_id in items:
        erased_items.setdefault(network, []).append(external_id)
    for network, kinds in by_network.items():
        for kind, values in kinds.items():
            Tombstone.record(kind, network, values)
    for network, ids in erased_items.items():
        Tombstone.record(Tombstone.Kind.ITEM, network, ids)
    return erased_items
