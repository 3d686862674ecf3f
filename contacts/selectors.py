"""Reads on contacts, shared by pages and the API."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from crm.models import TimelineEntry

from .models import Contact, SocialIdentity


def contact_list_queryset() -> QuerySet[Contact]:
    """Contacts with what a list row shows, in a constant number of queries."""
    return Contact.objects.select_related("owner").prefetch_related(
        Prefetch("identities", queryset=SocialIdentity.objects.order_by("network", "id")),
        "tags",
    )


def contact_search(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Contacts whose name, email or any handle contains ``text``."""
    text = text.strip().lstrip("@")
    if not text:
        return queryset
    handles = SocialIdentity.objects.filter(
        Q(handle__icontains=text) | Q(display_name__icontains=text)
    ).values("contact_id")
    return queryset.filter(
        Q(display_name__icontains=text) | Q(email__icontains=text) | Q(pk__in=handles)
    )


def contact_timeline(contact_id: int, *, kinds: list[str] | None = None) -> QuerySet[TimelineEntry]:
    qs = TimelineEntry.objects.filter(contact_id=contact_id).select_related(
        "account", "identity", "created_by"
    )
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs
