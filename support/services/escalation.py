"""Escalation: a complaint whose engagement or author's reach passes its team's
thresholds raises its ticket's priority and alerts the managers and the assignee, once."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import TimelineEntry
from core.choices import Direction, Intent

from ..models import ACTIVE_STATUSES, Team, Ticket, TicketLink
from .events import managers, ticket_alert, ticket_event
from .sla import copy_back, save_clock, sla_plan, sla_targets, ticket_schedule


def virality_reason(entry: TimelineEntry, team: Team) -> str:
    """Why a complaint has gone viral for ``team``'s thresholds, or ""."""
    checks = (
        (entry.like_count, team.escalate_likes, _("%(n)s likes")),
        (entry.repost_count, team.escalate_reposts, _("%(n)s reposts")),
        (entry.reply_count, team.escalate_replies, _("%(n)s replies")),
    )
    for value, threshold, label in checks:
        if threshold and value >= threshold:
            return label % {"n": value}
    followers = entry.identity.follower_count if entry.identity_id and entry.identity else None
    if team.escalate_followers and followers is not None and followers >= team.escalate_followers:
        return _("the author has %(n)s followers") % {"n": followers}
    return ""


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, reason: str, user: AbstractBaseUser | None = None) -> bool:
    """Raise the ticket's priority to the team's escalated priority and alert the
    managers and the assignee — once per ticket. Returns whether it escalated now."""
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "assignee")
        .get(pk=ticket.pk)
    )
    if locked.escalated_at is not None or not locked.is_active:
        return False
    locked.escalated_at = timezone.now()
    locked.priority = max(locked.priority, locked.team.escalate_to)
    sla_targets(locked)
    sla_plan(locked, ticket_schedule(locked))
    save_clock(locked, "escalated_at", "priority")
    ticket_event(locked, "escalated", user=user, text=reason, reason=reason)
    ticket_alert(
        ticket=locked,
        users=[*managers(), locked.assignee],
        title=_("Escalated: %(ticket)s") % {"ticket": locked},
        body=reason,
        dedupe_key=f"ticket-{locked.pk}-escalated",
    )
    copy_back(ticket, locked, "priority", "escalated_at")
    return True


def tickets_escalate_for_entries(*, entries: Iterable[TimelineEntry]) -> list[Ticket]:
    """Escalate the open tickets of complaints whose engagement (likes, reposts,
    replies) or author's follower count has crossed their team's thresholds. The sync
    engine calls this after refreshing counts; ``tickets_open_for_entries`` calls it
    for new items. Returns the tickets escalated now."""
    ids = [
        e.pk for e in entries if e.intent == Intent.COMPLAINT and e.direction == Direction.INBOUND
    ]
    if not ids:
        return []
    links = TicketLink.objects.filter(
        entry_id__in=ids, ticket__status__in=ACTIVE_STATUSES, ticket__escalated_at__isnull=True
    ).select_related("ticket__team", "entry__identity")
    escalated = []
    for link in links:
        reason = virality_reason(link.entry, link.ticket.team)
        if reason and ticket_escalate(ticket=link.ticket, reason=reason):
            escalated.append(link.ticket)
    return escalated
