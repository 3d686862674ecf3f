"""Every table that refers to a contact, found generically from ``Contact._meta``.

Merge, erase, export and their tests walk these, so rows added later by other apps
(tickets, campaign members) are covered without changes here."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey

from contacts.models import Contact


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
    found = []
    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.append((model, field.ct_field, field.fk_field))
    return found
