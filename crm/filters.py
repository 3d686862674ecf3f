from __future__ import annotations

import django_filters

from contacts.models import TimelineEntry
from core.choices import SOCIAL_KINDS, Direction, EntryKind, Network


class InteractionFilter(django_filters.FilterSet):
    contact = django_filters.NumberFilter(field_name="contact_id")
    network = django_filters.ChoiceFilter(choices=Network.choices)
    kind = django_filters.MultipleChoiceFilter(
        choices=[(k.value, k.label) for k in EntryKind if k in SOCIAL_KINDS]
    )
    direction = django_filters.ChoiceFilter(
        choices=[(d.value, d.value) for d in (Direction.INBOUND, Direction.OUTBOUND)]
    )
    account = django_filters.NumberFilter(field_name="account_id")
    handled = django_filters.BooleanFilter(
        field_name="handled_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = TimelineEntry
        fields = ["contact", "network", "kind", "direction", "account", "handled"]
