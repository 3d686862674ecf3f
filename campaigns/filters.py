from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from contacts.filters import ExtraFilter

from .models import Campaign, CampaignMatch, ListeningRule, ScheduledPost, TrackedLink
from .selectors import contacts_in_campaign


class CampaignFilter(django_filters.FilterSet):
    class Meta:
        model = Campaign
        fields = ["active", "owner"]


class ListeningRuleFilter(django_filters.FilterSet):
    class Meta:
        model = ListeningRule
        fields = ["campaign", "active"]


class TrackedLinkFilter(django_filters.FilterSet):
    class Meta:
        model = TrackedLink
        fields = ["campaign", "account"]


class ScheduledPostFilter(django_filters.FilterSet):
    state = django_filters.CharFilter(field_name="outbound__state", label=_("Outbox state"))

    class Meta:
        model = ScheduledPost
        fields = ["campaign", "account"]


class CampaignMatchFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=CampaignMatch.State.choices)

    class Meta:
        model = CampaignMatch
        fields = ["state"]


def filter_contacts_by_campaign(queryset, name, value):
    """For a ``django_filters.NumberFilter(method=...)`` on the contact list:
    ``?campaign=ID`` keeps the contacts that campaign touched (first or last touch)."""
    return contacts_in_campaign(queryset, value) if value else queryset


def contact_campaign_filter() -> ExtraFilter:
    """The contact list's ``campaign`` filter (registered by ``campaigns.apps``)."""
    return ExtraFilter(
        name="campaign",
        filter=django_filters.NumberFilter(
            method=filter_contacts_by_campaign, label=_("Campaign (id)")
        ),
        label=_("Campaign"),
        any_label=_("Any campaign"),
        options=lambda: Campaign.objects.order_by("-id").values_list("pk", "name")[:200],
    )
