from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.choices import Network

from .models import Contact, Stage


class ContactFilter(django_filters.FilterSet):
    stage = django_filters.TypedChoiceFilter(choices=Stage.choices, coerce=int)
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    network = django_filters.ChoiceFilter(choices=Network.choices, method="filter_identity")
    handle = django_filters.CharFilter(method="filter_identity", label=_("Handle (exact)"))
    owner = django_filters.NumberFilter(field_name="owner_id")
    tag = django_filters.CharFilter(field_name="tags__name")

    class Meta:
        model = Contact
        fields = ["stage", "owner", "tag"]

    def filter_search(self, queryset, name, value):
        from .selectors import contact_search

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
        from .models import SocialIdentity

        return queryset.filter(pk__in=SocialIdentity.objects.filter(condition).values("contact_id"))
