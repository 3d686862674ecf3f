"""Reads on social accounts and inbound social items, shared by pages and the API."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from contacts.models import TimelineEntry
from core.choices import QUESTION_KINDS, REACTION_KINDS, SOCIAL_KINDS, Direction

from .models import BackfillState, OutboundMessage, SocialAccount, SyncFailure
from .sync import backfill_page_budget


def _with_answers(qs: QuerySet[TimelineEntry]) -> QuerySet[TimelineEntry]:
    """What a row shows: contact, account, author, assignee and our answers so far."""
    return qs.select_related("contact", "account", "identity", "assigned_to").prefetch_related(
        Prefetch(
            "answers",
            queryset=OutboundMessage.objects.select_related("created_by", "account").order_by("id"),
        )
    )


def inbox_queryset(
    *,
    network: str = "",
    account: SocialAccount | None = None,
    kinds: list[str] | tuple[str, ...] = (),
    include_reactions: bool = False,
    assigned_to: AbstractBaseUser | None = None,
) -> QuerySet[TimelineEntry]:
    """Unhandled inbound social items across all accounts (the partial index
    ``timeline_inbox_unhandled`` serves it); questions only unless ``include_reactions``."""
    allowed = QUESTION_KINDS + (REACTION_KINDS if include_reactions else ())
    wanted = [k for k in kinds if k in allowed] or list(allowed)
    qs = TimelineEntry.objects.filter(
        direction=Direction.INBOUND, handled_at__isnull=True, kind__in=wanted
    )
    if network:
        qs = qs.filter(network=network)
    if account is not None:
        qs = qs.filter(account=account)
    if assigned_to is not None:
        qs = qs.filter(assigned_to=assigned_to)
    return _with_answers(qs)


def inbox_entry_queryset() -> QuerySet[TimelineEntry]:
    """Inbound social items, handled or not, with what an inbox row shows (fetch one
    with ``core.access.get_for_user_or_404``)."""
    return _with_answers(
        TimelineEntry.objects.filter(direction=Direction.INBOUND, kind__in=SOCIAL_KINDS)
    )


def interaction_queryset() -> QuerySet[TimelineEntry]:
    """Timeline entries of the social kinds, in and out (the interactions API)."""
    return TimelineEntry.objects.filter(kind__in=SOCIAL_KINDS).select_related(
        "account", "identity", "created_by"
    )


#: Failed items shown per account on the sync status page (all are in the admin).
RECENT_FAILURES = 20


def socialaccount_status_list() -> QuerySet[SocialAccount]:
    """Our accounts with what the sync status page shows, in a constant number of
    queries: the staff member, and each account's most recent failed items."""
    return (
        SocialAccount.objects.select_related("user")
        .prefetch_related(
            Prefetch(
                "failures",
                queryset=SyncFailure.objects.order_by("-last_seen", "-id")[:RECENT_FAILURES],
                to_attr="recent_failures",
            )
        )
        .order_by("network", "handle")
    )


def socialaccount_backfill_percent(account: SocialAccount) -> int:
    """Progress of the account's backfill for a progress bar: pages done out of the
    most a backfill fetches (``MOMENTO_BACKFILL_MAX_PAGES`` per stream); 100 once done."""
    if account.backfill_state == BackfillState.DONE:
        return 100
    if not account.backfill_state:
        return 0
    return min(99, 100 * account.backfill_pages // max(1, backfill_page_budget(account)))
