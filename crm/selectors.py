"""Reads on social accounts and inbound social items, shared by pages and the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import TimelineEntry
from core.choices import QUESTION_KINDS, REACTION_KINDS, SOCIAL_KINDS, Direction

from .models import BackfillState, OutboundMessage, SocialAccount, SyncFailure, SyncStream
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


def interaction_list_queryset() -> QuerySet[TimelineEntry]:
    """What the interactions API's list answers: the account is an id (no join, and no
    decryption of its credentials per row), the author is the identity's handle or the
    staff member's username (only those columns of theirs), and what it never answers
    (the raw payload, the largest column) stays in the database. Read newest first
    through the index ``timeline_social_newest``."""
    answered = [
        f.name for f in TimelineEntry._meta.concrete_fields if f.name not in _INTERACTION_UNANSWERED
    ]
    return (
        TimelineEntry.objects.filter(kind__in=SOCIAL_KINDS)
        .select_related("identity", "created_by")
        .only(*answered, "identity__handle", "created_by__username")
    )


#: Columns of a timeline entry the interactions list never answers.
_INTERACTION_UNANSWERED = frozenset(
    {"raw", "text_folded", "created_at", "sentiment_score", "content_type", "object_id"}
)


#: Failed items shown per account on the sync status page (all are in the admin).
RECENT_FAILURES = 20


def socialaccount_status_list() -> QuerySet[SocialAccount]:
    """Our accounts with what the sync status page shows, in a constant number of
    queries: the staff member, and each account's most recent failed items."""
    return (
        SocialAccount.objects.select_related("user")
        # Pages stored whose follow-up (tickets, stage rules, search) has not run yet.
        .annotate(followup_backlog=Count("ingest_batches", filter=Q(ingest_batches__done_at=None)))
        .prefetch_related(
            Prefetch(
                "failures",
                queryset=SyncFailure.objects.order_by("-last_seen", "-id")[:RECENT_FAILURES],
                to_attr="recent_failures",
            ),
            Prefetch("streams", queryset=SyncStream.objects.order_by("id")),
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


def socialaccount_problem_text(account: SocialAccount) -> str:
    """What is wrong with the account as a whole, in the user's language, or "".
    ``last_error`` keeps the network's own words (English, technical) for the
    "Technical detail" under it; this sentence is what the page leads with."""
    state = SocialAccount.State
    if account.state == state.NEEDS_RECONNECT:
        return _("The network no longer accepts Momento's sign-in: connect the account again.")
    if account.backfill_state == BackfillState.FAILED:
        return _("Loading the account's history failed; “Sync now” tries again.")
    if account.state == state.ERROR:
        return _("Every stream failed several syncs in a row; Momento keeps trying.")
    if not account.credentials:
        return _("No credentials are stored: connect the account to sync it.")
    if account.last_error:
        return _("The last sync failed; Momento tries again at the next one.")
    return ""


# -- streams: what the status page, the API and the admin say about each ------------------


def syncstream_label(name: str) -> str:
    """A stream's name in the user's language."""
    labels = {
        "notifications": _("Notifications"),
        "dms": _("Direct messages"),
        "mentions": _("Mentions"),
        "followers": _("Followers"),
        "comments": _("Comments"),
        "reactions": _("Reactions"),
        "subscribers": _("Subscribers"),
    }
    return labels.get(name, name)


def _when(moment) -> str:
    """A moment in the current time zone: the time alone today, else date and time."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def _error_reason(code: str, params: dict) -> str:
    network = str(params.get("network") or _("The network"))
    status = params.get("status") or "?"
    reasons = {
        "server_error": _("%(network)s answered %(status)s")
        % {"network": network, "status": status},
        "chat_error": _("Bluesky's chat service answered %(status)s") % {"status": status},
        "unreachable": _("%(network)s did not answer") % {"network": network},
        "rate_limited": _("%(network)s's rate limit was reached") % {"network": network},
        "refused": _("%(network)s refused the request") % {"network": network},
        "no_dm_access": _(
            "this app password has no access to direct messages; create one with DM access"
        ),
        "auth": _("%(network)s rejected the credentials") % {"network": network},
    }
    return reasons.get(code) or _("the request failed")


def syncstream_error_text(stream: SyncStream) -> str:
    """The stream's error in the user's language, naming the stream and when it is
    retried, e.g. "Direct messages: Bluesky's chat service answered 500; retrying at
    10:42"; "" when the stream has no error."""
    if not stream.error_code:
        return ""
    text = _("%(stream)s: %(reason)s") % {
        "stream": syncstream_label(stream.name),
        "reason": _error_reason(stream.error_code, stream.error_params or {}),
    }
    if stream.retry_at is not None:
        return _("%(error)s; retrying at %(time)s") % {
            "error": text,
            "time": _when(stream.retry_at),
        }
    return _("%(error)s; tried again at the next sync") % {"error": text}


def syncstream_gap_text(stream: SyncStream) -> str:
    """The last gap the network no longer served, or ""."""
    if stream.gap_found_at is None:
        return ""
    since = _when(stream.gap_since) if stream.gap_since else _("the last sync")
    until = _when(stream.gap_until) if stream.gap_until else _("now")
    if stream.gap_count is not None:
        return ngettext(
            "%(stream)s: %(count)s item may be missing between %(since)s and %(until)s "
            "(the network no longer serves them)",
            "%(stream)s: %(count)s items may be missing between %(since)s and %(until)s "
            "(the network no longer serves them)",
            stream.gap_count,
        ) % {
            "stream": syncstream_label(stream.name),
            "count": stream.gap_count,
            "since": since,
            "until": until,
        }
    return _(
        "%(stream)s: items may be missing between %(since)s and %(until)s "
        "(the network no longer serves them)"
    ) % {"stream": syncstream_label(stream.name), "since": since, "until": until}


def syncstream_history_text(stream: SyncStream) -> str:
    """Said when a first poll stopped at ``MOMENTO_BACKFILL_MAX_PAGES`` pages, or ""."""
    if stream.history_limited_at is None:
        return ""
    pages = settings.MOMENTO_BACKFILL_MAX_PAGES
    return ngettext(
        "%(stream)s: the first sync read the newest %(pages)s page of history; "
        "older items were not fetched",
        "%(stream)s: the first sync read the newest %(pages)s pages of history; "
        "older items were not fetched",
        pages,
    ) % {"stream": syncstream_label(stream.name), "pages": pages}
