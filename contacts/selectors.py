"""Reads on contacts, shared by pages and the API."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower

from contacts.models import TimelineEntry
from core.serializers import rows_attach

from .models import (
    Contact,
    ContactAudit,
    Purchase,
    SocialIdentity,
    Stage,
    StageChange,
    Todo,
)
from .search import contact_search

__all__ = [
    "contact_api_list_queryset",
    "contact_api_rows_attach",
    "contact_board_queryset",
    "contact_board_totals",
    "contact_duplicates",
    "contact_list_page_queryset",
    "contact_list_queryset",
    "contact_list_row_extras",
    "contact_search",
    "contact_timeline",
]


def contact_list_queryset() -> QuerySet[Contact]:
    """Contacts with what a list row shows, in a constant number of queries."""
    return Contact.objects.select_related("owner").prefetch_related(
        Prefetch("identities", queryset=SocialIdentity.objects.order_by("network", "id")),
        "tags",
    )


#: The columns a row of the HTML contact list shows (and its sort orders need).
LIST_ROW_COLUMNS = (
    "id",
    "display_name",
    "company",
    "stage",
    "score",
    "score_reasons",
    "last_interaction_at",
    "owner_id",
)


def contact_list_page_queryset() -> QuerySet[Contact]:
    """The HTML contact list: only the columns its rows show (a contact's search
    documents, which grow with its timeline, stay in the database); the owner's username
    as a column (``owner_username``: a row shows nothing else of the owner, and no user is
    built for it); the rows' handles and tags come from ``contact_list_row_extras``."""
    username = get_user_model().USERNAME_FIELD
    return Contact.objects.only(*LIST_ROW_COLUMNS).annotate(owner_username=F(f"owner__{username}"))


def _page_identities(ids: list[int]) -> QuerySet[SocialIdentity]:
    """The identities of a page's contacts, in the order a row lists them (by network)."""
    return SocialIdentity.objects.filter(contact_id__in=ids).order_by("network", "id")


def _page_tags(ids: list[int]) -> QuerySet:
    """The (contact, tag) links of a page's contacts, by tag name."""
    return Contact.tags.through.objects.filter(contact_id__in=ids).order_by("tag__name")


def contact_list_row_extras(ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The handles (by network) and tag names (by name) of the contacts ``ids``, as
    plain strings: two queries whatever the page's size, no model instance per
    identity or tag (a prefetch built one, with its related manager, per row)."""
    handles: dict[int, list[str]] = defaultdict(list)
    for contact_id, handle in _page_identities(ids).values_list("contact_id", "handle"):
        handles[contact_id].append(handle)
    tags: dict[int, list[str]] = defaultdict(list)
    for contact_id, name in _page_tags(ids).values_list("contact_id", "tag__name"):
        tags[contact_id].append(name)
    return handles, tags


def contact_api_list_queryset() -> QuerySet[Contact]:
    """The API's contact list: the contacts alone (the owner is an id, so no join);
    a page's identities and tags come from ``contact_api_rows_attach``."""
    return Contact.objects.all()


#: What ContactSerializer answers of an identity (its SocialIdentitySerializer's fields).
API_IDENTITY_COLUMNS = (
    "id",
    "network",
    "handle",
    "external_id",
    "display_name",
    "profile_url",
    "follower_count",
)


def contact_api_rows_attach(contacts: list[Contact]) -> None:
    """A page of the API's contact list gets its identities (by network) and tag names
    (by name) as plain rows for its serializer's fast path (``core.serializers``):
    two queries whatever the page's size, no model instance per identity or tag."""
    ids = [contact.pk for contact in contacts]
    rows_attach(
        contacts,
        "identities",
        _page_identities(ids).values("contact_id", *API_IDENTITY_COLUMNS),
        key="contact_id",
    )
    rows_attach(
        contacts,
        "tags",
        _page_tags(ids).values("contact_id", name=F("tag__name")),
        key="contact_id",
    )


def contact_board_queryset() -> QuerySet[Contact]:
    """What a pipeline card shows: no identities or tags, one query per column. Each
    card knows since when it is in its stage (``stage_since``: its last move into the
    stage, else when the contact was created)."""
    moved_in = (
        StageChange.objects.filter(contact=OuterRef("pk"), to_stage=OuterRef("stage"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        Contact.objects.annotate(stage_since=Coalesce(Subquery(moved_in), F("created_at")))
        .only(
            "id",
            "display_name",
            "stage",
            "company",
            "score",
            "score_reasons",
            "last_interaction_at",
            "owner__id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "created_at",
        )
        .select_related("owner")
    )


def contact_board_totals(contacts: QuerySet[Contact]) -> dict[int, dict]:
    """Per stage of ``contacts``: how many, and the value of their purchases per
    currency (two queries, whatever the number of contacts)."""
    totals = {stage: {"count": 0, "values": []} for stage in Stage.values}
    for row in contacts.order_by().values("stage").annotate(n=Count("id")):
        totals[row["stage"]]["count"] = row["n"]
    sums = (
        Purchase.objects.filter(contact__in=contacts.order_by().values("pk"))
        .values("contact__stage", "currency")
        .annotate(total=Sum("amount"))
        .order_by("contact__stage", "currency")
    )
    for row in sums:
        totals[row["contact__stage"]]["values"].append((row["currency"], row["total"]))
    return totals


def contact_timeline(contact_id: int, *, kinds: list[str] | None = None) -> QuerySet[TimelineEntry]:
    qs = TimelineEntry.objects.filter(contact_id=contact_id).select_related(
        "account", "identity", "created_by"
    )
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


@dataclass
class Duplicate:
    contact: Contact
    reasons: list[str] = field(default_factory=list)


def contact_duplicates(contact: Contact, *, limit: int = 10) -> list[Duplicate]:
    """Likely duplicates of ``contact``: the same email, the same handle on another
    network (``handle_key``: "lucia" for lucia.bsky.social and X's lucia), or the same
    name. Most reasons first. Four indexed queries."""
    found: dict[int, set[str]] = defaultdict(set)
    others = Contact.objects.exclude(pk=contact.pk)
    if contact.email:
        for pk in (
            others.alias(e=Lower("email")).filter(e=contact.email.lower()).values_list("pk")[:limit]
        ):
            found[pk[0]].add("email")
    keys = SocialIdentity.objects.filter(contact=contact).exclude(handle_key="")
    for pk in (
        SocialIdentity.objects.filter(handle_key__in=keys.values("handle_key"))
        .exclude(contact=contact)
        .values_list("contact_id")[:limit]
    ):
        found[pk[0]].add("handle")
    if contact.display_name.strip():
        for pk in (
            others.alias(n=Lower("display_name"))
            .filter(n=contact.display_name.lower())
            .values_list("pk")[:limit]
        ):
            found[pk[0]].add("name")
    if not found:
        return []
    contacts = (
        Contact.objects.filter(pk__in=found)
        .select_related("owner")
        .prefetch_related(
            Prefetch("identities", queryset=SocialIdentity.objects.order_by("network", "id"))
        )
    )
    duplicates = [Duplicate(c, sorted(found[c.pk])) for c in contacts]
    duplicates.sort(key=lambda d: (-len(d.reasons), d.contact.pk))
    return duplicates[:limit]


def contact_open_todos(contact_id: int) -> QuerySet[Todo]:
    return (
        Todo.objects.filter(contact_id=contact_id)
        .select_related("assignee")
        .order_by("done_at", "due_at", "id")
    )


def contact_purchases(contact_id: int) -> QuerySet[Purchase]:
    return Purchase.objects.filter(contact_id=contact_id).order_by("-purchased_at", "-id")


def contact_history(contact_id: int) -> QuerySet[ContactAudit]:
    return ContactAudit.objects.filter(contact_id=contact_id).select_related("actor")


def todos_for_user(user, *, done: bool = False) -> QuerySet[Todo]:
    qs = Todo.objects.filter(assignee=user, done_at__isnull=not done).select_related("contact")
    return qs.order_by("-done_at", "-id") if done else qs.order_by("due_at", "id")


def owner_choices() -> QuerySet:
    """Staff who may own contacts (those whose role changes contacts: Sales and
    Managers), for owner pickers."""
    can_change = Q(
        groups__permissions__codename="change_contact",
        groups__permissions__content_type__app_label="contacts",
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(can_change | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
