"""The API's base serializer: what the schema says a field holds is what it answers.

DRF's ``ModelSerializer`` drops ``allow_blank`` from read-only fields and never marks a
declared read-only field nullable, so the schema promised ``NetworkEnum`` where the API
answered ``""`` and a string where it answered ``null``; a blank URL (``""``) was a
``format: uri`` string. ``MomentoModelSerializer`` keeps the three facts:

- a read-only field of a blank-able model field may be blank (``BlankEnum`` members);
- a read-only field whose source crosses a nullable column or relation may be null;
- a blank URL is answered as ``null`` (a nullable ``uri``), and a ``null`` written to a
  URL field is stored blank.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import serializers

__all__ = ["MomentoModelSerializer"]


def _source_fields(model: type[models.Model], path: list[str]) -> list | None:
    """The model fields along ``path`` (``["message", "sent_at"]``) from ``model``, or
    ``None`` where a step is no model field (a method, a property)."""
    found = []
    for name in path:
        if model is None:
            return None
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        found.append(field)
        model = field.related_model if field.is_relation else None
    return found


class MomentoModelSerializer(serializers.ModelSerializer):
    def include_extra_kwargs(self, kwargs, extra_kwargs):
        allow_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if allow_blank and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs

    def get_fields(self):
        fields = super().get_fields()
        model = self.Meta.model
        self._blank_urls = set()
        for name, field in fields.items():
            source = field.source or name
            if source == "*" or isinstance(field, serializers.ListSerializer):
                continue
            path = _source_fields(model, source.split("."))
            if not path:
                continue
            if field.read_only and any(getattr(f, "null", False) for f in path):
                field.allow_null = True
            if isinstance(field, serializers.URLField) and path[-1].blank:
                field.allow_null = True
                self._blank_urls.add(name)
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in self._blank_urls & data.keys():
            if data[name] == "":
                data[name] = None
        return data

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for name in self._blank_urls:
            source = self.fields[name].source
            if source in values and values[source] is None:
                values[source] = ""
        return values
