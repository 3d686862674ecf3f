"""Who works on a ticket: assigning by hand or in bulk, and round-robin among a team's
available members under their cap of open tickets (retried by the beat job)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import TimelineEntry
from core.roles import MANAGER, SUPPORT

from ..models import ACTIVE_STATUSES, SupportAgent, Ticket
from .events import ticket_event


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: AbstractBaseUser | None, user: AbstractBaseUser | None = None
) -> Ticket:
    """Give the ticket to ``assignee`` (None: unassign), recorded on the timeline."""
    if assignee is not None and not assignee.has_perm("support.change_ticket"):
        raise ValidationError({"assignee": _("This person cannot work on tickets.")})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    if assignee is not None:
        SupportAgent.objects.filter(user=assignee).update(last_assigned_at=timezone.now())
    ticket_event(
        ticket, "assigned", user=user, assignee=assignee.get_username() if assignee else ""
    )
    return ticket


@transaction.atomic
def tickets_bulk_assign(
    *, tickets: Iterable[Ticket], assignee: AbstractBaseUser | None, user: AbstractBaseUser
) -> int:
    count = 0
    for ticket in tickets:
        ticket_assign(ticket=ticket, assignee=assignee, user=user)
        count += 1
    return count


def _open_counts(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assignee_id__in=list(user_ids), status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["assignee_id"]: row["n"] for row in rows}


@transaction.atomic
def ticket_auto_assign(*, ticket: Ticket) -> AbstractBaseUser | None:
    """Round-robin: the available member of the ticket's team who was assigned least
    recently, among those under their cap of open tickets. None when nobody can take
    it (the beat job tries again). Locks the team's agent rows, so concurrent
    assignments take turns."""
    if ticket.assignee_id is not None or not ticket.is_active:
        return None
    staff = get_user_model().objects.filter(
        Q(groups__name__in=(SUPPORT, MANAGER)) | Q(is_superuser=True), is_active=True
    )
    agents = list(
        SupportAgent.objects.select_for_update(of=("self",))
        .filter(team_id=ticket.team_id, is_available=True, user__in=staff.values("pk"))
        .select_related("user")
        .order_by("id")
    )
    counts = _open_counts(a.user_id for a in agents)
    eligible = [a for a in agents if counts.get(a.user_id, 0) < a.max_open_tickets]
    if not eligible:
        return None
    epoch = datetime.min.replace(tzinfo=UTC)
    agent = min(eligible, key=lambda a: (a.last_assigned_at or epoch, a.pk))
    ticket_assign(ticket=ticket, assignee=agent.user)
    return agent.user


def tickets_assign_waiting() -> int:
    """Assign unassigned open tickets of auto-assigning teams, oldest first."""
    assigned = 0
    waiting = Ticket.objects.filter(
        assignee__isnull=True, status__in=ACTIVE_STATUSES, team__auto_assign=True
    ).order_by("id")[:200]
    for ticket in waiting:
        if ticket_auto_assign(ticket=ticket) is None:
            continue
        assigned += 1
    return assigned


@transaction.atomic
def tickets_auto_assign_bulk(*, tickets: list[Ticket]) -> int:
    """``ticket_auto_assign`` for many new tickets, in a constant number of statements
    per team: the team's agents are locked once and take the tickets in turn (least
    recently assigned first, each under their cap). Returns how many were assigned; the
    rest wait for the beat job."""
    by_team: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        if ticket.assignee_id is None and ticket.is_active:
            by_team.setdefault(ticket.team_id, []).append(ticket)
    if not by_team:
        return 0
    staff = get_user_model().objects.filter(
        Q(groups__name__in=(SUPPORT, MANAGER)) | Q(is_superuser=True), is_active=True
    )
    agents = list(
        SupportAgent.objects.select_for_update(of=("self",))
        .filter(team_id__in=by_team, is_available=True, user__in=staff.values("pk"))
        .select_related("user")
        .order_by("id")
    )
    counts = _open_counts(a.user_id for a in agents)
    epoch = datetime.min.replace(tzinfo=UTC)
    assigned: list[Ticket] = []
    moved: dict[int, SupportAgent] = {}
    for team_id, waiting in by_team.items():
        team_agents = [a for a in agents if a.team_id == team_id]
        for ticket in waiting:
            eligible = [a for a in team_agents if counts.get(a.user_id, 0) < a.max_open_tickets]
            if not eligible:
                break
            agent = min(eligible, key=lambda a: (a.last_assigned_at or epoch, a.pk))
            ticket.assignee = agent.user
            agent.last_assigned_at = timezone.now()
            counts[agent.user_id] = counts.get(agent.user_id, 0) + 1
            moved[agent.pk] = agent
            assigned.append(ticket)
    if not assigned:
        return 0
    now = timezone.now()
    for ticket in assigned:
        ticket.updated_at = now
    Ticket.objects.bulk_update(assigned, ["assignee", "updated_at"], batch_size=500)
    SupportAgent.objects.bulk_update(list(moved.values()), ["last_assigned_at"])
    TimelineEntry.objects.bulk_create(
        [
            ticket_event(t, "assigned", assignee=t.assignee.get_username(), build_only=True)
            for t in assigned
        ],
        batch_size=500,
    )
    return len(assigned)
