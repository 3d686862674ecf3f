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

import inspect
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partialmethod
from operator import attrgetter, itemgetter, methodcaller
from typing import Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from rest_framework import ISO_8601, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

__all__ = ["FastListSerializer", "MomentoModelSerializer", "read_plan", "rows_attach"]


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


# -- the read-only fast path of lists ------------------------------------------------------
#
# DRF answers each cell of a list through the field machinery: ``get_attribute`` (with an
# ``inspect.signature`` of every callable it meets), a related manager and a queryset per
# row and relation, a ``PKOnlyObject`` per foreign key, a time-zone lookup per datetime.
# For 50 contacts that was most of the request. ``FastListSerializer`` answers the same
# JSON from a plan compiled once per serializer class out of the serializer's own fields:
# plain attribute getters for model columns and foreign-key ids, the prefetched rows for
# relations, the field's own ``to_representation`` (or the builtin it amounts to) for the
# value. A field the plan does not know is answered by DRF's own ``get_attribute`` and
# ``to_representation``, so the output never differs; tests compare both paths.


class _Column(NamedTuple):
    name: str
    get: Callable[[Any], Any]
    convert: Callable[[Any], Any]


#: A column, or what makes one from the serializer being answered (request-dependent
#: parts: the method of a ``SerializerMethodField``, the active language and time zone).
_ColumnFactory = Callable[[serializers.BaseSerializer], _Column]


def _identity(value: Any) -> Any:
    return value


def _fixed(column: _Column) -> _ColumnFactory:
    return lambda serializer: column


def _datetime_converter(field: serializers.DateTimeField) -> Callable[[Any], Any]:
    """``DateTimeField.to_representation`` with the time zone looked up once per list:
    an aware datetime in ISO 8601 (``Z`` for UTC); anything else goes to the field."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    tz = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if tz is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation
    slow = field.to_representation

    def convert(value):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            return slow(value)
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return slow(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _converter(field: serializers.Field) -> Callable[[Any], Any]:
    method = type(field).to_representation
    if method is serializers.CharField.to_representation:
        return str
    if method is serializers.IntegerField.to_representation:
        return int
    if method is serializers.FloatField.to_representation:
        return float
    return field.to_representation


def _generic_get(field: serializers.Field) -> Callable[[Any], Any]:
    """DRF's own ``get_attribute`` (``SkipField`` included); a foreign key's
    ``PKOnlyObject`` with no id is ``None``, as ``Serializer.to_representation`` has it."""

    def get(instance):
        value = field.get_attribute(instance)
        if isinstance(value, PKOnlyObject) and value.pk is None:
            return None
        return value

    return get


def _rows_attribute(name: str) -> str:
    return f"_rows_{name}"


def rows_attach(instances: list[models.Model], name: str, rows: Iterable[dict], *, key: str):
    """Give each of ``instances`` its rows of relation ``name``, for the fast path to
    answer the relation's field from: ``rows`` is one ``.values()`` query over them all,
    in the order the field lists them, and ``key`` its column naming the instance
    (``contact_id``). Plain rows cost a fraction of model instances in a prefetch (no
    instance, related manager or queryset per row); the relation's related manager is
    left as it was (use it where only the fast path reads the rows)."""
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.pop(key)].append(row)
    attribute = _rows_attribute(name)
    for instance in instances:
        instance.__dict__[attribute] = grouped.get(instance.pk, [])


def _related_rows(name: str) -> Callable[[Any], Any]:
    """The rows of relation ``name``: those of ``rows_attach`` or of a prefetch when
    there are (already fetched), else the related manager (``.all()`` comes later)."""
    attribute = _rows_attribute(name)

    def get(instance):
        state = instance.__dict__
        if (rows := state.get(attribute)) is not None:
            return rows
        cache = state.get("_prefetched_objects_cache")
        if cache is not None and (rows := cache.get(name)) is not None:
            return rows
        return getattr(instance, name)

    return get


def _model_field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _display_getter(model, source: str) -> Callable[[], Callable[[Any], Any]] | None:
    """``get_<field>_display``, called without DRF's ``inspect.signature`` of it per
    row. Where the model keeps Django's ``_get_FIELD_display`` (which rebuilds the
    choices and translates every label on each call), from a label table made once per
    list in the active language, a value outside the choices going to the method."""
    if not (source.startswith("get_") and source.endswith("_display")):
        return None
    field = _model_field(model, source[4:-8])
    if field is None or not field.choices or field.is_relation:
        return None
    if not isinstance(inspect.getattr_static(model, source, None), partialmethod):
        return None  # the model defines its own
    if inspect.getattr_static(model, "_get_FIELD_display") is not _DJANGO_DISPLAY:
        # The model answers labels its own way: ask it (cheap to call directly).
        direct = methodcaller(source)
        return lambda: direct
    attname = field.attname

    def make(table: dict) -> Callable[[Any], Any]:
        def get(instance):
            try:
                return table[getattr(instance, attname)]
            except (KeyError, TypeError):
                return getattr(instance, source)()

        return get

    return lambda: make(
        {make_hashable(k): force_str(v, strings_only=True) for k, v in field.flatchoices}
    )


_DJANGO_DISPLAY = models.Model.__dict__["_get_FIELD_display"]


def _compile_field(
    name: str, field: serializers.Field, model, blank_url: bool, *, plain: bool = False
) -> _ColumnFactory | None:
    """The column of ``field`` for model instances; with ``plain``, for the plain rows
    of ``rows_attach`` (a ``.values()`` row holds a column's value exactly as the
    instance does), and then ``None`` for a field that is not a model column."""
    source = field.source_attrs
    single = source[0] if len(source) == 1 else None
    model_field = _model_field(model, single) if single else None
    convert = _converter(field)
    column = itemgetter if plain else attrgetter

    if plain and not (model_field is not None and model_field.concrete):
        return None

    if isinstance(field, serializers.SerializerMethodField):
        method_name = field.method_name
        return lambda serializer: _Column(name, _identity, getattr(serializer, method_name))

    if isinstance(field, serializers.ListSerializer):
        child = _ReadPlan(field.child)
        related = model_field is not None and (model_field.one_to_many or model_field.many_to_many)
        get = _related_rows(single) if related else _generic_get(field)

        def factory(serializer):
            represent = child.bind(field.child)
            plain_represent = None

            def convert_rows(rows):
                nonlocal plain_represent
                if isinstance(rows, models.manager.BaseManager):
                    rows = rows.all()
                elif related and rows and type(rows[0]) is dict:  # rows_attach's
                    plain_represent = plain_represent or child.bind_plain_rows(field.child)
                    return [plain_represent(row) for row in rows]
                return [represent(row) for row in rows]

            return _Column(name, get, convert_rows)

        return factory

    if isinstance(field, relations.ManyRelatedField):
        child_field = field.child_relation
        if model_field is None or not (model_field.one_to_many or model_field.many_to_many):
            return _fixed(_Column(name, _generic_get(field), field.to_representation))
        # What the field answers of each row, and the column of a plain row holding it.
        key = None
        if type(child_field) is relations.SlugRelatedField and "__" not in child_field.slug_field:
            item = attrgetter(key := child_field.slug_field)
        elif type(child_field) is relations.PrimaryKeyRelatedField and child_field.pk_field is None:
            item = attrgetter("pk")
            key = model_field.related_model._meta.pk.attname
        else:
            item = child_field.to_representation
        rows_of = _related_rows(single)

        def item_of(row):
            if type(row) is dict:  # a plain row of rows_attach
                if key is None or key not in row:
                    raise ImproperlyConfigured(
                        f"The plain rows of {name!r} need the column {key!r} (or be instances)."
                    )
                return row[key]
            return item(row)

        def get_many(instance):
            if instance.pk is None:
                return []
            rows = rows_of(instance)
            return rows.all() if isinstance(rows, models.manager.BaseManager) else rows

        return _fixed(_Column(name, get_many, lambda rows: [item_of(row) for row in rows]))

    if (
        type(field) is relations.PrimaryKeyRelatedField
        and field.pk_field is None
        and model_field is not None
        and model_field.concrete
        and (model_field.many_to_one or model_field.one_to_one)
    ):
        return _fixed(_Column(name, column(model_field.attname), _identity))

    if isinstance(field, (relations.RelatedField, serializers.BaseSerializer)):
        if plain:
            return None
        return _fixed(_Column(name, _generic_get(field), field.to_representation))

    get = None
    display = None
    if (
        model_field is not None
        and model_field.concrete
        and not model_field.is_relation
        and isinstance(inspect.getattr_static(model, single, None), DeferredAttribute)
    ):
        get = column(model_field.attname)
    elif plain:
        return None
    elif single:
        display = _display_getter(model, single)
    if get is None and display is None:
        get = _generic_get(field)
    is_datetime = type(field).to_representation is serializers.DateTimeField.to_representation

    def factory(serializer):
        value_get = display() if display is not None else get
        value_convert = _datetime_converter(field) if is_datetime else convert
        if blank_url:
            value_convert = _null_if_blank(value_convert)
        return _Column(name, value_get, value_convert)

    if display is None and not is_datetime:
        return _fixed(factory(None))
    return factory


def _null_if_blank(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``MomentoModelSerializer``'s blank URL, answered as ``null``."""

    def null_if_blank(value):
        text = convert(value)
        return None if text == "" else text

    return null_if_blank


def _represent(columns: list[_Column]) -> Callable[[Any], dict]:
    def represent(instance):
        row = {}
        for name, get, convert in columns:
            try:
                value = get(instance)
            except SkipField:
                continue
            row[name] = None if value is None else convert(value)
        return row

    return represent


class _ReadPlan:
    """How to answer one serializer's fields, compiled once from a serializer instance."""

    def __init__(self, serializer: serializers.Serializer):
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        fields = {name: f for name, f in serializer.fields.items() if not f.write_only}
        blank_urls = getattr(serializer, "_blank_urls", set())
        self.columns = [
            _compile_field(name, field, model, name in blank_urls) for name, field in fields.items()
        ]
        plain = [
            _compile_field(name, field, model, name in blank_urls, plain=True)
            for name, field in fields.items()
        ]
        self.plain_columns = None if None in plain else plain

    def bind(self, serializer: serializers.BaseSerializer) -> Callable[[Any], dict]:
        return _represent([make(serializer) for make in self.columns])

    def bind_plain_rows(self, serializer: serializers.BaseSerializer) -> Callable[[dict], dict]:
        """How to answer a plain row of ``rows_attach``: only for a serializer whose
        fields are all model columns (the rows of any other must be model instances)."""
        if self.plain_columns is None:
            raise ImproperlyConfigured(
                f"{type(serializer).__name__} answers more than model columns: attach"
                " model instances, not plain rows."
            )
        return _represent([make(serializer) for make in self.plain_columns])


_PLANS: dict[type, _ReadPlan] = {}


def read_plan(serializer_class: type[serializers.Serializer]) -> _ReadPlan:
    """The plan of ``serializer_class``, compiled on first use from an instance without
    context (what the plan keeps from it is the fields' configuration, never a request)."""
    plan = _PLANS.get(serializer_class)
    if plan is None:
        plan = _PLANS[serializer_class] = _ReadPlan(serializer_class(context={}))
    return plan


class FastListSerializer(serializers.ListSerializer):
    """``many=True`` of a read serializer, answered through its compiled plan (same JSON
    as DRF's, much less machinery per row). Set it as ``Meta.list_serializer_class``.

    For serializers whose fields answer the same whatever the request: a
    ``SerializerMethodField`` of the listed serializer itself is called on the
    serializer being answered (it sees its context); nested serializers' methods are
    called on the plan's own copy, without a request."""

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        represent = read_plan(type(self.child)).bind(self.child)
        return [represent(row) for row in rows]
