from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import Network
from core.params import ascii_int

from .models import Contact, ContactAudit, Purchase, SocialIdentity, Stage, StageRule, Todo

# -- sort orders of the list and the board ------------------------------------------------


@dataclass(frozen=True)
class Sort:
    label: Any
    fields: tuple[str, ...]
    descending: bool = True
    #: The first field may be NULL; NULLs sort last.
    nulls_last: bool = False

    @property
    def keyset(self) -> dict[str, Any]:
        """Arguments for ``core.paging.keyset_page`` in this order."""
        return {"fields": self.fields, "descending": self.descending, "nulls_last": self.nulls_last}


SORTS = {
    # Contacts nobody has heard from have no last interaction: they come last.
    "recent": Sort(_("Last interaction"), ("last_interaction_at", "id"), nulls_last=True),
    "newest": Sort(_("Newest"), ("id",)),
    "score": Sort(_("Score"), ("score", "id")),
    "name": Sort(_("Name"), ("display_name", "id"), descending=False),
}
DEFAULT_SORT = "recent"

LAST_INTERACTION = [
    ("7d", _("In the last 7 days")),
    ("30d", _("In the last 30 days")),
    ("90d", _("In the last 90 days")),
    ("older", _("More than 90 days ago")),
    ("never", _("Never")),
]


class ContactFilter(django_filters.FilterSet):
    """The filters of the contact list, the pipeline board, the CSV export and the API.

    Apps above contacts add theirs with ``contact_filter_register`` (campaigns adds
    ``campaign``: it owns the attribution of contacts)."""

    stage = django_filters.TypedChoiceFilter(choices=Stage.choices, coerce=int)
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    network = django_filters.ChoiceFilter(choices=Network.choices, method="filter_identity")
    handle = django_filters.CharFilter(method="filter_identity", label=_("Handle (exact)"))
    owner = django_filters.CharFilter(
        method="filter_owner", label=_("Owner"), help_text=_("A user id, “me” or “none”.")
    )
    tag = django_filters.CharFilter(field_name="tags__name", label=_("Tag"))
    last_interaction = django_filters.ChoiceFilter(
        choices=LAST_INTERACTION, method="filter_last_interaction", label=_("Last interaction")
    )
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["stage", "tag"]

    def filter_search(self, queryset, name, value):
        from .search import contact_search

        return contact_search(queryset, value)

    def filter_identity(self, queryset, name, value):
        # network and handle match the same identity; applied once with both values.
        network = self.form.cleaned_data.get("network")
        handle = (self.form.cleaned_data.get("handle") or "").lstrip("@")
        if name == "network" and handle:
            return queryset  # the handle filter applies both
        condition = Q()
        if network:
            condition &= Q(network=network)
        if handle:
            condition &= Q(handle__iexact=handle)
        return queryset.filter(pk__in=SocialIdentity.objects.filter(condition).values("contact_id"))

    def filter_owner(self, queryset, name, value):
        value = value.strip().lower()
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(owner_id=user.pk if user else None)
        if (owner_id := ascii_int(value)) is not None:
            return queryset.filter(owner_id=owner_id)
        return queryset.none()

    def filter_last_interaction(self, queryset, name, value):
        now = timezone.now()
        if value == "never":
            return queryset.filter(last_interaction_at__isnull=True)
        if value == "older":
            return queryset.filter(last_interaction_at__lt=now - timedelta(days=90))
        days = int(value.rstrip("d"))
        return queryset.filter(last_interaction_at__gte=now - timedelta(days=days))


class TodoFilter(django_filters.FilterSet):
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Todo
        fields = ["contact", "assignee"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)


class PurchaseFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="purchased_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="purchased_at", lookup_expr="lt")

    class Meta:
        model = Purchase
        fields = ["contact", "source", "external_ref", "currency"]


class StageRuleFilter(django_filters.FilterSet):
    class Meta:
        model = StageRule
        fields = ["kind", "active", "target_stage"]


class ContactAuditFilter(django_filters.FilterSet):
    class Meta:
        model = ContactAudit
        fields = ["action", "actor"]


# -- filters other apps add ---------------------------------------------------------------


@dataclass(frozen=True)
class ExtraFilter:
    """A filter an app above contacts adds to the contact list: its ``filter`` joins
    ``ContactFilter``, and the list shows a select of ``options()`` ((value, label)
    pairs) for it."""

    name: str
    filter: django_filters.Filter
    label: Any
    any_label: Any
    options: Callable[[], Iterable[tuple[Any, str]]]


EXTRA_FILTERS: dict[str, ExtraFilter] = {}


def contact_filter_register(extra: ExtraFilter) -> None:
    """Add ``extra`` to the contact list's filters. Call it from the app's
    ``AppConfig.ready()``: contacts imports no app above it."""
    ContactFilter.base_filters[extra.name] = extra.filter
    EXTRA_FILTERS[extra.name] = extra


def extra_filter_choices(filterset: ContactFilter) -> list[dict[str, Any]]:
    """Each registered filter with its options and which one the request selected."""
    data = filterset.form.data
    return [
        {
            "name": extra.name,
            "label": extra.label,
            "any_label": extra.any_label,
            "options": [
                (value, label, str(value) == data.get(extra.name, ""))
                for value, label in extra.options()
            ],
        }
        for extra in EXTRA_FILTERS.values()
    ]
