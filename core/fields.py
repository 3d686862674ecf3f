"""Model fields of the kernel: a JSON field encrypted at rest with Fernet
(``FIELD_ENCRYPTION_KEY``), and the stored folded copy of a row's searchable text."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from lib.text import fold


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip()) for k in keys.split(",") if k.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc


def encrypt(value: Any) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(json.dumps(value).encode()).decode()


def decrypt(token: str) -> Any:
    try:
        return json.loads(_fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY "
            "(was the key changed without keeping the old one after it?)"
        ) from exc


class EncryptedJSONField(models.TextField):
    """Stores any JSON value as a Fernet token. Not searchable, never shown back."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return decrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and value:
            try:
                return decrypt(value)
            except ImproperlyConfigured:
                return json.loads(value)
        return value if value is not None else {}

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt(value)


#: What joins a row's sources in its folded copy: nobody types it in a search box, so a
#: match never spans two fields ("perez panaderia" is no name).
FOLD_SEPARATOR = "\n"


class FoldedTextField(models.TextField):
    """A stored copy of ``sources`` (fields of the same row) without accents or case
    (``lib.text.fold``), for substring search where PostgreSQL's full-text search is
    absent (SQLite, the embedded default): a plain ``LIKE`` on one indexed column
    instead of folding every row's text at query time.

    NULL on PostgreSQL, whose search has its own documents (unaccented, stemmed,
    GIN-indexed): a second copy of every post would only cost space and write time there,
    and a B-tree index over it would refuse posts longer than its ~2.7 kB row limit (the
    models' indexes on the copies are partial, ``IS NOT NULL``: empty on PostgreSQL).

    Kept current on ``save()`` (with ``update_fields`` too, through ``FoldedModel``) and
    ``bulk_create()`` by ``pre_save``; ``bulk_update()`` and ``QuerySet.update()`` do not
    call it, so their callers use ``folded_update_fields`` and ``folded_values``."""

    def __init__(self, *args, sources: tuple[str, ...] = (), **kwargs):
        self.sources = tuple(sources)
        kwargs["null"] = True
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("null", None)
        kwargs.pop("editable", None)
        kwargs["sources"] = self.sources
        return name, path, args, kwargs

    def folded(self, values: dict[str, Any]) -> str | None:
        """The copy of a row whose sources hold ``values`` (None on PostgreSQL)."""
        if settings.IS_POSTGRES:
            return None
        return fold(FOLD_SEPARATOR.join(str(values.get(s) or "") for s in self.sources))

    def pre_save(self, model_instance, add):
        value = self.folded({s: getattr(model_instance, s) for s in self.sources})
        setattr(model_instance, self.attname, value)
        return value


def _folded_fields(model) -> list[FoldedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, FoldedTextField)]


def folded_update_fields(objs: list[models.Model], fields) -> list[str]:
    """For ``bulk_update(objs, fields)``: refresh each object's folded copies whose
    sources are among ``fields`` and return ``fields`` with those copies added."""
    fields = list(fields)
    if not objs or settings.IS_POSTGRES:  # the copies are NULL there: nothing to write
        return fields
    for field in _folded_fields(type(objs[0])):
        if set(field.sources) & set(fields):
            for obj in objs:
                field.pre_save(obj, False)
            fields.append(field.name)
    return fields


def folded_values(model, **values: Any) -> dict[str, str | None]:
    """For ``QuerySet.update(**values)`` that sets every source of a folded copy: the
    copies to set with them (``update(**values, **folded_values(Model, **values))``)."""
    if settings.IS_POSTGRES:  # the copies are NULL there: nothing to write
        return {}
    return {
        f.attname: f.folded(values) for f in _folded_fields(model) if set(f.sources) <= set(values)
    }


class FoldedModel(models.Model):
    """A model with ``FoldedTextField``s: ``save(update_fields=...)`` that names a source
    also writes its copy."""

    class Meta:
        abstract = True

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            names = set(update_fields)
            for field in _folded_fields(type(self)):
                if names & set(field.sources):
                    names.add(field.name)
            update_fields = names
        super().save(*args, update_fields=update_fields, **kwargs)
