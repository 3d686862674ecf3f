from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from core.choices import Network

from .models import Incident, Priority, Status, Team, Ticket


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("Status"))
    # ChoiceFilter (not Typed…) so the queue's select offers "any priority" first.
    priority = django_filters.ChoiceFilter(
        choices=Priority.choices, label=_("Priority"), empty_label=_("Any priority")
    )
    network = django_filters.ChoiceFilter(
        choices=Network.choices, label=_("Network"), empty_label=_("Any network")
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), label=_("Team"), empty_label=_("Any team")
    )
    assignee = django_filters.NumberFilter(field_name="assignee_id", label=_("Assignee"))
    contact = django_filters.NumberFilter(field_name="contact_id", label=_("Contact"))
    incident = django_filters.NumberFilter(field_name="incident_id", label=_("Incident"))

    class Meta:
        model = Ticket
        fields = ["status", "priority", "network", "team", "assignee", "contact", "incident"]


class IncidentFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Incident.State.choices, label=_("State"))

    class Meta:
        model = Incident
        fields = ["state", "team"]
